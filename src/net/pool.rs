//! The accept loop and the connection cap both servers share: one thread per connection, at
//! most `max` open at once, and a cap that idle clients cannot fill.
//!
//! Every admitted connection has a [`Ticket`]: while its thread waits for the client (for the
//! first byte of a request, or for the rest of one) the connection is *waiting*; while the
//! server reads nothing and answers, it is *busy*. When the pool is full, a new connection
//! closes the connection that has been waiting longest and takes its place: a thousand
//! clients that connect and send nothing (or send a request very slowly) hold at most `max`
//! threads, and only until newer clients need them, so they cannot starve a client that
//! sends a request. Only when every connection is busy is a newcomer refused (503).
//!
//! At shutdown, [`Pool::close_reads`] ends every connection's reading side: waiting
//! connections end at once, busy ones after writing the answer they are working on, and
//! [`Pool::wait_empty`] waits for them with a deadline.

use std::collections::HashMap;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Instant;

/// Stack of a connection thread: requests are parsed into the heap, so this is plenty.
const STACK: usize = 512 * 1024;

struct Slot {
    /// A clone of the connection's socket, to close it from outside its thread.
    stream: TcpStream,
    /// Since when the connection waits for its client; `None` while it is busy.
    waiting_since: Option<Instant>,
}

/// The open connections of one server.
pub struct Pool {
    max: usize,
    slots: Mutex<HashMap<u64, Slot>>,
    closed: Condvar,
    next_id: AtomicU64,
}

/// A connection's place in the pool; dropping it frees the place.
pub struct Ticket {
    pool: Arc<Pool>,
    id: u64,
}

impl Ticket {
    /// The connection waits for its client from now on (and may be closed to make room).
    pub fn waiting(&self) {
        self.pool.set_waiting(self.id, Some(Instant::now()));
    }

    /// The connection is being answered: it is not closed to make room.
    pub fn busy(&self) {
        self.pool.set_waiting(self.id, None);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.pool.lock().remove(&self.id);
        self.pool.closed.notify_all();
    }
}

impl Pool {
    /// A pool of at most `max` connections (at least 1).
    pub fn new(max: usize) -> Arc<Pool> {
        Arc::new(Pool {
            max: max.max(1),
            slots: Mutex::new(HashMap::new()),
            closed: Condvar::new(),
            next_id: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Slot>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_waiting(&self, id: u64, since: Option<Instant>) {
        if let Some(slot) = self.lock().get_mut(&id) {
            slot.waiting_since = since;
        }
    }

    /// How many connections are open.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no connection is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A place for `stream`, closing the longest-waiting connection when the pool is full;
    /// `None` when every open connection is busy (or the socket cannot be cloned).
    pub fn admit(self: &Arc<Self>, stream: &TcpStream) -> Option<Ticket> {
        let clone = stream.try_clone().ok()?;
        let mut slots = self.lock();
        if slots.len() >= self.max {
            let oldest = slots.iter().filter_map(|(id, s)| s.waiting_since.map(|t| (t, *id))).min();
            let (_, id) = oldest?;
            if let Some(evicted) = slots.remove(&id) {
                // Its thread sees end of input and returns.
                let _ = evicted.stream.shutdown(Shutdown::Both);
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        slots.insert(id, Slot { stream: clone, waiting_since: Some(Instant::now()) });
        Some(Ticket { pool: Arc::clone(self), id })
    }

    /// Ends the reading side of every open connection (at shutdown).
    pub fn close_reads(&self) {
        for slot in self.lock().values() {
            let _ = slot.stream.shutdown(Shutdown::Read);
        }
    }

    /// Waits until every connection has ended, or `deadline` passes.
    pub fn wait_empty(&self, deadline: Instant) {
        let mut slots = self.lock();
        while !slots.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            slots = match self.closed.wait_timeout(slots, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

/// Accepts connections until `stopping` is set (checked after each accept, so whoever sets
/// it connects once to wake the loop). Each admitted connection runs `serve` on its own
/// thread; a connection the full pool cannot admit is passed to `busy` (which answers 503).
pub fn accept_loop(
    listener: &TcpListener,
    pool: &Arc<Pool>,
    stopping: &AtomicBool,
    name: &str,
    busy: impl Fn(TcpStream),
    serve: impl Fn(TcpStream, Ticket) + Send + Sync + 'static,
) {
    let serve = Arc::new(serve);
    for stream in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let Some(ticket) = pool.admit(&stream) else {
            busy(stream);
            continue;
        };
        let serve = Arc::clone(&serve);
        // When the thread cannot start, the closure (stream and ticket) is dropped: the
        // connection closes and its place is freed.
        let _ = thread::Builder::new().name(name.to_string()).stack_size(STACK).spawn(move || serve(stream, ticket));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    fn pair(listener: &TcpListener) -> (TcpStream, TcpStream) {
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (client, server)
    }

    #[test]
    fn a_full_pool_closes_the_longest_waiting_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let pool = Pool::new(2);
        let (mut c1, s1) = pair(&listener);
        let t1 = pool.admit(&s1).unwrap();
        let (_c2, s2) = pair(&listener);
        let t2 = pool.admit(&s2).unwrap();
        t2.busy();
        let (_c3, s3) = pair(&listener);
        let t3 = pool.admit(&s3).expect("room made by closing the waiting connection");
        assert_eq!(pool.len(), 2);
        // The first client sees its connection closed.
        let mut buf = [0u8; 1];
        assert_eq!(c1.read(&mut buf).unwrap_or(0), 0);
        // Now both open connections are busy: no room.
        t3.busy();
        let (_c4, s4) = pair(&listener);
        assert!(pool.admit(&s4).is_none());
        drop(t1);
        drop(t2);
        assert_eq!(pool.len(), 1);
        drop(t3);
        assert!(pool.is_empty());
    }
}
