//! Password hashing and verification: Argon2id on a small pool of dedicated threads, off the
//! async runtime, with bounded concurrency.
//!
//! * Hashing is deliberately slow, so it runs on `password_hash_concurrency` dedicated threads
//!   (default: the CPU count) behind a semaphore: a login flood queues here instead of occupying
//!   every runtime worker.
//! * Each hashing thread owns one Argon2 memory block (`m_cost` KiB), allocated on its first job
//!   and reused for every hash and verification while logins keep coming. Allocating 19 MiB per
//!   hash on tokio's blocking pool left each block resident in per-thread malloc arenas (609 MiB
//!   peak RSS at 256 connections) and cost ~10 % of login CPU in memset and page faults
//!   (`bench/RESULTS.md`, "Peak RSS"). A thread without a job for [`IDLE_RELEASE`] gives its
//!   block back, so an idle server does not hold `concurrency × m_cost` of hashing memory
//!   (`tessera_password_hash_memory_bytes` shows what is held).
//! * The hashing threads run at the lowest normal priority (nice 19), so under a login flood the
//!   runtime workers preempt them and token verification keeps its latency (`bench/RESULTS.md`,
//!   "/api/me/ p99 during a login flood"); logins still get every idle cycle.
//! * Unknown users are verified against a dummy hash made with the same parameters, so a login
//!   costs the same whether or not the user exists (no user enumeration by timing).
//! * Stored hashes are recognised by format ([`StoredHash`]); a later issue adds Django's
//!   formats (`pbkdf2_sha256$…`, `bcrypt_sha256$…`, …) as new variants. `!`-prefixed values are
//!   Django's "unusable password" and never match.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use crate::config::Settings;

/// Errors of the password machinery (never caused by a wrong password).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// Invalid Argon2 parameters.
    #[error("invalid password hashing parameters: {0}")]
    Params(String),
    /// Hashing failed (out of memory, no randomness).
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The hashing job was lost (it panicked).
    #[error("password hashing task failed")]
    Task,
    /// The hashing pool is shut down ([`Passwords::shutdown`]) or could not start its threads.
    #[error("password hashing pool is not running")]
    Closed,
}

/// A stored password, classified by format.
#[derive(Debug)]
pub enum StoredHash<'a> {
    /// A PHC string `$argon2id$v=19$m=…,t=…,p=…$salt$hash` (also `argon2i`/`argon2d`).
    Argon2(Box<PasswordHash<'a>>),
    /// `!…`: an unusable password (Django `set_unusable_password`); never matches.
    Unusable,
    /// A format this build does not verify; never matches.
    Unrecognised,
}

impl<'a> StoredHash<'a> {
    /// Classifies a stored password string.
    pub fn parse(stored: &'a str) -> StoredHash<'a> {
        if stored.starts_with('!') {
            return StoredHash::Unusable;
        }
        if stored.starts_with("$argon2")
            && let Ok(hash) = PasswordHash::new(stored)
        {
            return StoredHash::Argon2(Box::new(hash));
        }
        StoredHash::Unrecognised
    }
}

/// Argon2id hashing on a bounded pool of dedicated threads.
#[derive(Clone)]
pub struct Passwords {
    params: Params,
    pool: Arc<Pool>,
    dummy_hash: Arc<str>,
    /// Verifications started, for [`Passwords::verifications`].
    verifications: Arc<AtomicU64>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords")
            .field("m_cost", &self.params.m_cost())
            .field("t_cost", &self.params.t_cost())
            .field("p_cost", &self.params.p_cost())
            .field("concurrency", &self.pool.threads)
            .field("available", &self.pool.permits.available_permits())
            .finish_non_exhaustive()
    }
}

impl Passwords {
    /// Builds the hasher from the `password_hash_*` settings: starts the hashing threads and
    /// computes the dummy hash once.
    pub fn from_settings(settings: &Settings) -> Result<Passwords, PasswordError> {
        let params = Params::new(
            settings.password_hash_memory_kib,
            settings.password_hash_iterations,
            settings.password_hash_parallelism,
            None,
        )
        .map_err(|e| PasswordError::Params(e.to_string()))?;
        let concurrency = match settings.password_hash_concurrency {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        // The first thread's memory serves the dummy hash here, on the calling thread, before it
        // is handed over: no block is allocated and freed just for start-up.
        let held = Arc::new(AtomicU64::new(0));
        let mut first = Memory::new(&params, &held);
        let mut random = [0u8; 24];
        fill_random(&mut random)?;
        let dummy = hash_with(&params, hex::encode(random).as_bytes(), &mut first)?;
        let pool = Pool::start(&params, concurrency, first, held)?;
        Ok(Passwords {
            params,
            pool: Arc::new(pool),
            dummy_hash: dummy.into(),
            verifications: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Hashes `password` into a PHC string with a fresh random salt.
    pub async fn hash(&self, password: &SecretString) -> Result<String, PasswordError> {
        let params = self.params.clone();
        let password = SecretString::from(password.expose_secret());
        self.run(move |memory| hash_with(&params, password.expose_secret().as_bytes(), memory))
            .await?
    }

    /// Whether `password` matches `stored`. `None` (unknown user) is checked against the dummy
    /// hash and always answers `false`, at the same cost as a real check.
    pub async fn verify(
        &self,
        password: &SecretString,
        stored: Option<&str>,
    ) -> Result<bool, PasswordError> {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let password = SecretString::from(password.expose_secret());
        let dummy = Arc::clone(&self.dummy_hash);
        let stored: Option<String> = stored.map(str::to_owned);
        self.run(move |memory| {
            let candidate = password.expose_secret().as_bytes();
            match stored.as_deref().map(StoredHash::parse) {
                Some(StoredHash::Argon2(hash)) => verify_with(candidate, &hash, memory),
                // Unknown user, unusable or unrecognised password: same work, never a match.
                None | Some(StoredHash::Unusable | StoredHash::Unrecognised) => {
                    if let Ok(hash) = PasswordHash::new(&dummy) {
                        let _ = verify_with(candidate, &hash, memory);
                    }
                    false
                }
            }
        })
        .await
    }

    /// How many password verifications this pool (and its clones) has started: lets tests show
    /// that a throttled login never reaches the hasher.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// Bytes of Argon2 memory the hashing threads hold now: up to `concurrency × m_cost` while
    /// logins come in, 0 once every thread has been idle for [`IDLE_RELEASE`].
    pub fn held_memory_bytes(&self) -> u64 {
        self.pool.held.load(Ordering::Relaxed)
    }

    /// Stops the hashing threads once the jobs already handed to them are done; later calls to
    /// [`Passwords::hash`] and [`Passwords::verify`] (on any clone) answer
    /// [`PasswordError::Closed`]. Dropping the last clone does the same.
    pub fn shutdown(&self) {
        self.pool.permits.close();
        self.pool.queue.close();
    }

    /// Whether `stored` should be re-hashed with the current parameters after a successful login
    /// (an older cost, or another format). Re-hashing never revokes tokens.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        match StoredHash::parse(stored) {
            StoredHash::Argon2(hash) => {
                hash.algorithm.as_str() != "argon2id"
                    || Params::try_from(&*hash).map_or(true, |p| {
                        p.m_cost() != self.params.m_cost()
                            || p.t_cost() != self.params.t_cost()
                            || p.p_cost() != self.params.p_cost()
                    })
            }
            StoredHash::Unusable | StoredHash::Unrecognised => false,
        }
    }

    /// Runs `work` on a hashing thread with that thread's memory, in the caller's tracing span.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        // The gauge counts the requests waiting for a hashing slot (metrics.rs); the guard keeps
        // it right when a waiting request is cancelled. The semaphore closes only at shutdown.
        let waiting = QueueDepth::enter();
        let permit = Arc::clone(&self.pool.permits)
            .acquire_owned()
            .await
            .map_err(|_| PasswordError::Closed)?;
        drop(waiting);
        let (answer, answered) = oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move |memory| {
            // The permit travels with the job and is released when the hash is done, not when the
            // caller stops waiting: jobs queued or running never exceed the thread count.
            let _permit: OwnedSemaphorePermit = permit;
            let _ = answer.send(span.in_scope(|| work(memory)));
        });
        self.pool.submit(job)?;
        // A dropped sender means the job panicked.
        answered.await.map_err(|_| PasswordError::Task)
    }
}

/// How long a hashing thread keeps its Argon2 block after its last job. Long enough that a
/// steady trickle of logins reuses it, short enough that memory returns soon after a burst.
pub const IDLE_RELEASE: Duration = Duration::from_secs(2);

/// A unit of work for a hashing thread.
type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// The hashing threads and the queue that feeds them.
struct Pool {
    /// One permit per hashing thread: waiting for a slot happens here, asynchronously, so the
    /// queue never holds more jobs than there are threads.
    permits: Arc<Semaphore>,
    queue: Arc<Queue>,
    threads: usize,
    /// Bytes of Argon2 memory its threads hold now.
    held: Arc<AtomicU64>,
}

/// Jobs waiting for a hashing thread. A mutex and a condition variable rather than a channel:
/// every idle thread waits on its own timeout at once (see [`hashing_thread`]).
struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
}

struct QueueState {
    jobs: VecDeque<Job>,
    /// False once shut down: no new jobs; threads finish the queued ones and stop.
    open: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn close(&self) {
        self.lock().open = false;
        self.ready.notify_all();
    }
}

impl Pool {
    fn start(
        params: &Params,
        threads: usize,
        first: Memory,
        held: Arc<AtomicU64>,
    ) -> Result<Pool, PasswordError> {
        let queue = Arc::new(Queue {
            state: Mutex::new(QueueState {
                jobs: VecDeque::with_capacity(threads),
                open: true,
            }),
            ready: Condvar::new(),
        });
        let mut first = Some(first);
        for index in 0..threads {
            let thread_queue = Arc::clone(&queue);
            let memory = first.take();
            let params = params.clone();
            let held = Arc::clone(&held);
            let spawned = std::thread::Builder::new()
                .name(format!("tessera-hash-{index}"))
                .spawn(move || {
                    let memory = memory.unwrap_or_else(|| Memory::released(&params, &held));
                    hashing_thread(&thread_queue, memory);
                });
            if spawned.is_err() {
                queue.close();
                return Err(PasswordError::Closed);
            }
        }
        Ok(Pool {
            permits: Arc::new(Semaphore::new(threads)),
            queue,
            threads,
            held,
        })
    }

    fn submit(&self, job: Job) -> Result<(), PasswordError> {
        let mut state = self.queue.lock();
        if !state.open {
            return Err(PasswordError::Closed);
        }
        state.jobs.push_back(job);
        drop(state);
        self.queue.ready.notify_one();
        Ok(())
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.queue.close();
    }
}

/// One hashing thread: runs jobs until the pool is shut down and its queue is empty, and
/// releases its memory after [`IDLE_RELEASE`] without a job.
fn hashing_thread(queue: &Queue, mut memory: Memory) {
    // Lowest normal priority (nice 19 on Linux, per thread): the runtime workers preempt hashing
    // as soon as they have work. Not SCHED_IDLE: on a machine kept busy by other processes,
    // SCHED_IDLE would starve logins outright, nice 19 still gets a small share. Failing to
    // lower it is not fatal (a sandbox may forbid it); hashing then competes at normal priority.
    if let Err(e) =
        thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Min)
    {
        tracing::warn!(error = ?e, "could not lower the password hashing thread's priority");
    }
    let mut state = queue.lock();
    loop {
        // Drain before stopping, so a shut-down pool still finishes what it accepted.
        if let Some(job) = state.jobs.pop_front() {
            drop(state);
            // A panicking job drops its answer channel (the caller gets `Task`) and the thread
            // keeps serving: the pool never shrinks. The memory needs no repair, Argon2 writes
            // every block before reading it.
            let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut memory)));
            state = queue.lock();
            continue;
        }
        if !state.open {
            return;
        }
        if memory.is_held() {
            let (next, waited) = queue
                .ready
                .wait_timeout(state, IDLE_RELEASE)
                .unwrap_or_else(PoisonError::into_inner);
            state = next;
            if waited.timed_out() && state.jobs.is_empty() {
                drop(state);
                memory.release();
                state = queue.lock();
            }
        } else {
            state = queue
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// A hashing thread's Argon2 memory: `block_count` 1 KiB blocks, allocated when a job needs
/// them and reused by every hash until released.
struct Memory {
    blocks: Vec<Block>,
    block_count: usize,
    /// The pool's count of bytes held by all its threads.
    held: Arc<AtomicU64>,
}

impl Memory {
    /// Allocated now.
    fn new(params: &Params, held: &Arc<AtomicU64>) -> Memory {
        let mut memory = Memory::released(params, held);
        memory.hold();
        memory
    }

    /// Not allocated until the first hash.
    fn released(params: &Params, held: &Arc<AtomicU64>) -> Memory {
        Memory {
            blocks: Vec::new(),
            block_count: params.block_count(),
            held: Arc::clone(held),
        }
    }

    fn bytes(blocks: usize) -> u64 {
        (blocks * std::mem::size_of::<Block>()) as u64
    }

    fn is_held(&self) -> bool {
        !self.blocks.is_empty()
    }

    fn hold(&mut self) {
        if !self.is_held() {
            self.blocks = allocate_blocks(self.block_count);
            let now = self
                .held
                .fetch_add(Memory::bytes(self.block_count), Ordering::Relaxed)
                + Memory::bytes(self.block_count);
            metrics::gauge!("tessera_password_hash_memory_bytes").set(now as f64);
        }
    }

    fn release(&mut self) {
        if self.is_held() {
            self.blocks = Vec::new();
            let now = self
                .held
                .fetch_sub(Memory::bytes(self.block_count), Ordering::Relaxed)
                - Memory::bytes(self.block_count);
            metrics::gauge!("tessera_password_hash_memory_bytes").set(now as f64);
        }
    }

    /// Argon2 of `password` and `salt` into `out`, in the reused blocks when they are large enough
    /// (Argon2 uses the first `block_count` of them and overwrites each before reading it), else
    /// in a temporary buffer: a stored hash made with more memory than the current setting.
    fn hash_into(
        &mut self,
        argon2: &Argon2<'_>,
        needed: usize,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> Result<(), argon2::Error> {
        if needed <= self.block_count {
            self.hold();
            argon2.hash_password_into_with_memory(password, salt, out, &mut self.blocks)
        } else {
            let temporary = allocate_blocks(needed);
            argon2.hash_password_into_with_memory(password, salt, out, temporary)
        }
    }
}

/// glibc's malloc serves a request of at least this many bytes with a mapping of its own, which
/// `free` unmaps, whatever its dynamic threshold: that threshold rises to the size of each mapped
/// chunk freed, up to `DEFAULT_MMAP_THRESHOLD_MAX`, 32 MiB on 64-bit (mallopt(3)). A 19 MiB
/// block is mapped the first time, but once it is freed the next one comes from the thread's
/// arena, and freeing that leaves it resident: the server's RSS stayed at its peak after the
/// second burst of logins.
const ALWAYS_MAPPED_BYTES: usize = 32 << 20;

/// `count` zeroed Argon2 blocks in an allocation that goes back to the kernel when dropped. The
/// capacity beyond `count` is address space only: never written, so never resident.
fn allocate_blocks(count: usize) -> Vec<Block> {
    let mut blocks =
        Vec::with_capacity(count.max(ALWAYS_MAPPED_BYTES / std::mem::size_of::<Block>()));
    blocks.resize(count, Block::new());
    blocks
}

impl Drop for Memory {
    fn drop(&mut self) {
        self.release();
    }
}

/// One password check waiting for a hashing slot (`tessera_password_hash_queue_depth`).
struct QueueDepth;

impl QueueDepth {
    fn enter() -> QueueDepth {
        metrics::gauge!("tessera_password_hash_queue_depth").increment(1.0);
        QueueDepth
    }
}

impl Drop for QueueDepth {
    fn drop(&mut self) {
        metrics::gauge!("tessera_password_hash_queue_depth").decrement(1.0);
    }
}

/// Argon2id with the configured parameters into a PHC string, with a fresh random salt.
fn hash_with(
    params: &Params,
    password: &[u8],
    memory: &mut Memory,
) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    fill_random(&mut salt)?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt_string =
        SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    memory
        .hash_into(&argon2, params.block_count(), password, &salt, &mut out)
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: params
            .try_into()
            .map_err(|e: argon2::password_hash::Error| PasswordError::Hash(e.to_string()))?,
        salt: Some(salt_string.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| PasswordError::Hash(e.to_string()))?),
    };
    Ok(phc.to_string())
}

/// Recomputes a stored PHC hash with its own algorithm, version and parameters, and compares in
/// constant time — what `PasswordVerifier::verify_password` does, but in the reused memory.
fn verify_with(password: &[u8], hash: &PasswordHash<'_>, memory: &mut Memory) -> bool {
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    // Includes `keyid`/`data` and the output length of the stored hash.
    let Ok(params) = Params::try_from(hash) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let needed = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = [0u8; Output::MAX_LENGTH];
    let out = &mut out[..expected.len()];
    if memory
        .hash_into(&argon2, needed, password, salt, out)
        .is_err()
    {
        return false;
    }
    // `Output`'s equality is constant-time (password-hash `ct_eq`).
    Output::new(out).is_ok_and(|computed| computed == *expected)
}

fn fill_random(buf: &mut [u8]) -> Result<(), PasswordError> {
    getrandom::fill(buf).map_err(|e| PasswordError::Hash(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Passwords {
        let settings = Settings {
            password_hash_memory_kib: 1024,
            password_hash_iterations: 1,
            password_hash_concurrency: 2,
            ..Settings::default()
        };
        Passwords::from_settings(&settings).unwrap()
    }

    fn secret(s: &str) -> SecretString {
        SecretString::from(s)
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let p = cheap();
        let h = p.hash(&secret("hunter2")).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{h}");
        assert!(p.verify(&secret("hunter2"), Some(&h)).await.unwrap());
        assert!(!p.verify(&secret("hunter3"), Some(&h)).await.unwrap());
        assert!(!p.needs_rehash(&h));
    }

    #[tokio::test]
    async fn unusable_unknown_and_missing_never_match() {
        let p = cheap();
        assert!(!p.verify(&secret(""), None).await.unwrap());
        let h = p.hash(&secret("pw")).await.unwrap();
        let unusable = format!("!{h}");
        assert!(!p.verify(&secret("pw"), Some(&unusable)).await.unwrap());
        assert!(
            !p.verify(&secret("pw"), Some("pbkdf2_sha256$1$salt$abc"))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn other_costs_need_rehash() {
        let p = cheap();
        let strong = Passwords::from_settings(&Settings {
            password_hash_memory_kib: 2048,
            password_hash_iterations: 1,
            ..Settings::default()
        })
        .unwrap();
        let h = strong.hash(&secret("pw")).await.unwrap();
        assert!(p.verify(&secret("pw"), Some(&h)).await.unwrap());
        assert!(p.needs_rehash(&h));
    }

    /// Plain `argon2` hashes of several shapes: other algorithms, versions, lanes, output
    /// lengths, and memory both below and above the pool's 1 MiB block.
    fn reference_hashes() -> Vec<String> {
        use argon2::password_hash::PasswordHasher as _;
        let shapes = [
            (Algorithm::Argon2id, Version::V0x13, 1024, 1, 1, 32),
            (Algorithm::Argon2id, Version::V0x13, 512, 2, 1, 32),
            (Algorithm::Argon2id, Version::V0x13, 1024, 1, 4, 16),
            (Algorithm::Argon2i, Version::V0x13, 256, 3, 1, 64),
            (Algorithm::Argon2d, Version::V0x10, 1024, 1, 2, 32),
            // More memory than the pool's block: verified in a temporary buffer.
            (Algorithm::Argon2id, Version::V0x13, 4096, 1, 1, 32),
            (Algorithm::Argon2id, Version::V0x13, 3000, 2, 3, 24),
        ];
        shapes
            .into_iter()
            .map(|(algorithm, version, m, t, p, len)| {
                let params = Params::new(m, t, p, Some(len)).unwrap();
                let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
                Argon2::new(algorithm, version, params)
                    .hash_password(b"correct horse", &salt)
                    .unwrap()
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn reused_memory_verifies_like_plain_argon2() {
        use argon2::password_hash::PasswordVerifier as _;
        let params = Params::new(1024, 1, 1, None).unwrap();
        let mut memory = Memory::new(&params, &Arc::new(AtomicU64::new(0)));
        let pool_blocks = memory.blocks.len();
        for stored in reference_hashes() {
            let hash = PasswordHash::new(&stored).unwrap();
            for candidate in [&b"correct horse"[..], b"correct horsf", b""] {
                let plain = Argon2::default().verify_password(candidate, &hash).is_ok();
                let reused = verify_with(candidate, &hash, &mut memory);
                assert_eq!(reused, plain, "{stored} with {candidate:?}");
            }
            assert!(
                verify_with(b"correct horse", &hash, &mut memory),
                "{stored}"
            );
            // A larger stored cost never grows the pool's own block.
            assert_eq!(memory.blocks.len(), pool_blocks);
        }
    }

    #[tokio::test]
    async fn pool_verifies_reference_hashes() {
        let p = cheap();
        for stored in reference_hashes() {
            assert!(
                p.verify(&secret("correct horse"), Some(&stored))
                    .await
                    .unwrap()
            );
            assert!(
                !p.verify(&secret("correct horsf"), Some(&stored))
                    .await
                    .unwrap()
            );
        }
    }

    #[tokio::test]
    async fn pool_hashes_verify_with_plain_argon2() {
        use argon2::password_hash::PasswordVerifier as _;
        let p = cheap();
        let h = p.hash(&secret("pw")).await.unwrap();
        let hash = PasswordHash::new(&h).unwrap();
        assert!(Argon2::default().verify_password(b"pw", &hash).is_ok());
        assert!(Argon2::default().verify_password(b"pv", &hash).is_err());
        // Fresh salts: the same password never gives the same string.
        assert_ne!(h, p.hash(&secret("pw")).await.unwrap());
    }

    #[tokio::test]
    async fn trimmed_or_damaged_hashes_never_match() {
        let p = cheap();
        let h = p.hash(&secret("pw")).await.unwrap();
        let (without_hash, _) = h.rsplit_once('$').unwrap();
        assert!(!p.verify(&secret("pw"), Some(without_hash)).await.unwrap());
        let unknown_param = h.replace("p=1", "p=1,x=2");
        assert!(!p.verify(&secret("pw"), Some(&unknown_param)).await.unwrap());
    }

    #[tokio::test]
    async fn many_concurrent_checks_all_answer() {
        let p = cheap();
        let h = p.hash(&secret("pw")).await.unwrap();
        let checks = (0..16).map(|i| {
            let p = p.clone();
            let h = h.clone();
            tokio::spawn(async move {
                let password = if i % 2 == 0 { "pw" } else { "nope" };
                (i, p.verify(&secret(password), Some(&h)).await.unwrap())
            })
        });
        for check in checks.collect::<Vec<_>>() {
            let (i, matched) = check.await.unwrap();
            assert_eq!(matched, i % 2 == 0);
        }
    }

    #[tokio::test]
    async fn a_shut_down_pool_answers_an_error() {
        let p = cheap();
        let clone = p.clone();
        p.shutdown();
        assert!(matches!(
            clone.verify(&secret("pw"), None).await,
            Err(PasswordError::Closed)
        ));
        assert!(matches!(
            clone.hash(&secret("pw")).await,
            Err(PasswordError::Closed)
        ));
    }

    #[tokio::test]
    async fn a_panicking_job_neither_hangs_nor_loses_the_thread() {
        let p = Passwords::from_settings(&Settings {
            password_hash_memory_kib: 1024,
            password_hash_iterations: 1,
            password_hash_concurrency: 1,
            ..Settings::default()
        })
        .unwrap();
        let lost = p
            .run(|_| -> bool { panic!("a bug in a hashing job") })
            .await;
        assert!(matches!(lost, Err(PasswordError::Task)));
        // The only hashing thread is still there, and its permit came back.
        let h = p.hash(&secret("pw")).await.unwrap();
        assert!(p.verify(&secret("pw"), Some(&h)).await.unwrap());
    }

    /// Memory is held while hashing and returned after the threads are idle: an idle server
    /// does not keep `concurrency × m_cost` resident.
    #[tokio::test]
    async fn idle_threads_release_their_memory() {
        let p = Passwords::from_settings(&Settings {
            password_hash_memory_kib: 1024,
            password_hash_iterations: 1,
            password_hash_concurrency: 2,
            ..Settings::default()
        })
        .unwrap();
        // The first thread's block computed the dummy hash; the second allocates on demand.
        assert_eq!(p.held_memory_bytes(), 1024 * 1024);
        let checks: Vec<_> = (0..4)
            .map(|_| {
                let p = p.clone();
                tokio::spawn(async move { p.hash(&secret("pw")).await.unwrap() })
            })
            .collect();
        for check in checks {
            check.await.unwrap();
        }
        assert!(p.held_memory_bytes() >= 1024 * 1024);
        // Each thread releases after IDLE_RELEASE without a job; allow for a slow machine.
        let deadline = std::time::Instant::now() + IDLE_RELEASE * 2 + Duration::from_secs(20);
        while p.held_memory_bytes() != 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "still held: {}",
                p.held_memory_bytes()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // And a later job gets memory again and still hashes correctly.
        let h = p.hash(&secret("pw")).await.unwrap();
        assert!(p.verify(&secret("pw"), Some(&h)).await.unwrap());
        assert!(p.held_memory_bytes() >= 1024 * 1024);
    }
}
