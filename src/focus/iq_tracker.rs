//! Outgoing IQ tracking: every IQ the focus sends gets a unique id and a
//! deadline; its result, error or timeout goes back to whoever asked, as the
//! caller-defined key `K` (which conference, which participant, what for).
//!
//! Ids are a random per-process prefix plus a counter, so they are unique on
//! each connection and not guessable; a reply is accepted only from the
//! address the request went to and on the connection it left by, so a
//! third party cannot complete someone else's request.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use crate::conn::ConnId;

/// Table capacity kept when nothing is in flight.
const IDLE_CAPACITY: usize = 64;

#[derive(Debug)]
struct Pending<K> {
    key: K,
    conn: ConnId,
    to: String,
    deadline: Instant,
}

/// Requests in flight, keyed by id, ordered by deadline.
#[derive(Debug)]
pub struct IqTracker<K> {
    prefix: String,
    seq: u64,
    pending: HashMap<u64, Pending<K>>,
    deadlines: BTreeSet<(Instant, u64)>,
}

/// Why a reply was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    /// No request with that id is pending.
    Unknown,
    /// The id is ours but the reply came from elsewhere.
    WrongSender,
}

impl<K> IqTracker<K> {
    /// A tracker whose ids start with `prefix` (letters and digits only).
    pub fn new(prefix: String) -> Self {
        IqTracker {
            prefix,
            seq: 0,
            pending: HashMap::new(),
            deadlines: BTreeSet::new(),
        }
    }

    /// Registers a request to `to` on `conn` and returns the id to send it with.
    pub fn register(
        &mut self,
        now: Instant,
        conn: ConnId,
        to: &str,
        timeout: Duration,
        key: K,
    ) -> String {
        self.register_with(now, conn, to, timeout, key, str::to_string)
    }

    /// Like [`IqTracker::register`], but lends the id to `write` (which
    /// serialises the request) instead of returning it: the id is formatted
    /// on the stack, so sending an IQ allocates no id string.
    pub fn register_with<R>(
        &mut self,
        now: Instant,
        conn: ConnId,
        to: &str,
        timeout: Duration,
        key: K,
        write: impl FnOnce(&str) -> R,
    ) -> R {
        let seq = self.insert(now, conn, to, timeout, key);
        let mut buf = [0u8; 64];
        match format_id(&mut buf, &self.prefix, seq) {
            Some(id) => write(id),
            None => write(&format!("{}{:x}", self.prefix, seq)),
        }
    }

    fn insert(&mut self, now: Instant, conn: ConnId, to: &str, timeout: Duration, key: K) -> u64 {
        self.seq += 1;
        let deadline = now + timeout;
        self.pending.insert(
            self.seq,
            Pending {
                key,
                conn,
                to: to.to_string(),
                deadline,
            },
        );
        self.deadlines.insert((deadline, self.seq));
        self.seq
    }

    fn seq_of(&self, id: &str) -> Option<u64> {
        let hex = id.strip_prefix(self.prefix.as_str())?;
        if hex.is_empty() || hex.len() > 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u64::from_str_radix(hex, 16).ok()
    }

    /// True when `id` looks like one of ours (pending or not).
    pub fn is_ours(&self, id: &str) -> bool {
        self.seq_of(id).is_some()
    }

    /// A result or error arrived: returns the key of the request it answers.
    /// `from` absent is accepted only for requests to a server or room
    /// (no resource), which RFC 6120 lets answer without one.
    pub fn take_reply(
        &mut self,
        conn: ConnId,
        id: &str,
        from: Option<&str>,
    ) -> Result<K, Mismatch> {
        let seq = self.seq_of(id).ok_or(Mismatch::Unknown)?;
        let p = self.pending.get(&seq).ok_or(Mismatch::Unknown)?;
        let sender_ok = p.conn == conn
            && match from {
                Some(f) => f.eq_ignore_ascii_case(&p.to),
                None => !p.to.contains('/'),
            };
        if !sender_ok {
            return Err(Mismatch::WrongSender);
        }
        let p = self.pending.remove(&seq).ok_or(Mismatch::Unknown)?;
        self.deadlines.remove(&(p.deadline, seq));
        self.shrink_if_idle();
        Ok(p.key)
    }

    /// The earliest deadline.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.first().map(|(t, _)| *t)
    }

    /// Removes and returns one request whose deadline has passed.
    pub fn pop_expired(&mut self, now: Instant) -> Option<K> {
        let &(t, seq) = self.deadlines.first()?;
        if t > now {
            return None;
        }
        self.deadlines.pop_first();
        let key = self.pending.remove(&seq).map(|p| p.key);
        self.shrink_if_idle();
        key
    }

    /// Forgets every request `f` selects (their owner is gone); no event.
    pub fn cancel_where(&mut self, mut f: impl FnMut(&K) -> bool) {
        let doomed: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| f(&p.key))
            .map(|(s, _)| *s)
            .collect();
        for seq in doomed {
            if let Some(p) = self.pending.remove(&seq) {
                self.deadlines.remove(&(p.deadline, seq));
            }
        }
        self.shrink_if_idle();
    }

    /// The connection went down: returns the keys of every request sent on
    /// it, which will never be answered.
    pub fn drain_conn(&mut self, conn: ConnId) -> Vec<K> {
        let lost: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| p.conn == conn)
            .map(|(s, _)| *s)
            .collect();
        let mut keys = Vec::with_capacity(lost.len());
        for seq in lost {
            if let Some(p) = self.pending.remove(&seq) {
                self.deadlines.remove(&(p.deadline, seq));
                keys.push(p.key);
            }
        }
        self.shrink_if_idle();
        keys
    }

    /// The table keeps the capacity a burst grew it to; once nothing is in
    /// flight that memory goes back, so an idle focus stays small (small
    /// tables are kept: refilling them would only churn the allocator).
    fn shrink_if_idle(&mut self) {
        if self.pending.is_empty() && self.pending.capacity() > IDLE_CAPACITY {
            self.pending = HashMap::new();
        }
    }

    /// Requests in flight.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// True when nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

/// `prefix` and `seq` in lowercase hex, as `format!("{prefix}{seq:x}")`
/// writes them, into `buf`; `None` when the prefix leaves no room.
fn format_id<'b>(buf: &'b mut [u8; 64], prefix: &str, seq: u64) -> Option<&'b str> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digits = (64 - seq.leading_zeros()).div_ceil(4).max(1) as usize;
    let len = prefix.len() + digits;
    if len > buf.len() {
        return None;
    }
    buf[..prefix.len()].copy_from_slice(prefix.as_bytes());
    for (i, b) in buf[prefix.len()..len].iter_mut().rev().enumerate() {
        *b = HEX[((seq >> (4 * i)) & 0xf) as usize];
    }
    std::str::from_utf8(&buf[..len]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(15);

    #[test]
    fn reply_goes_to_the_asker_once() {
        let mut t = IqTracker::new("fc".into());
        let now = Instant::now();
        let a = t.register(
            now,
            ConnId::Client,
            "room@conference.meet.test",
            T,
            "owner-form",
        );
        let b = t.register(now, ConnId::Client, "jvb.meet.test", T, "disco");
        assert_ne!(a, b);
        assert!(t.is_ours(&a));
        assert_eq!(
            t.take_reply(ConnId::Client, &b, Some("jvb.meet.test")),
            Ok("disco")
        );
        assert_eq!(
            t.take_reply(ConnId::Client, &b, Some("jvb.meet.test")),
            Err(Mismatch::Unknown)
        );
        assert_eq!(
            t.take_reply(ConnId::Client, &a, None),
            Ok("owner-form"),
            "a room may answer without from"
        );
        assert!(t.is_empty());
    }

    #[test]
    fn spoofed_or_misrouted_replies_are_refused() {
        let mut t = IqTracker::new("fc".into());
        let now = Instant::now();
        let id = t.register(now, ConnId::Client, "r@c.meet.test/alice", T, 1);
        assert_eq!(
            t.take_reply(ConnId::Client, &id, Some("r@c.meet.test/mallory")),
            Err(Mismatch::WrongSender)
        );
        assert_eq!(
            t.take_reply(ConnId::Client, &id, None),
            Err(Mismatch::WrongSender),
            "full JIDs must answer with from"
        );
        assert_eq!(
            t.take_reply(ConnId::Component, &id, Some("r@c.meet.test/alice")),
            Err(Mismatch::WrongSender)
        );
        assert_eq!(
            t.take_reply(ConnId::Client, &id, Some("R@C.meet.test/alice")),
            Ok(1)
        );
        assert_eq!(
            t.take_reply(ConnId::Client, "other-1", None),
            Err(Mismatch::Unknown)
        );
        assert_eq!(
            t.take_reply(ConnId::Client, "fczz", None),
            Err(Mismatch::Unknown)
        );
    }

    #[test]
    fn timeouts_pop_in_deadline_order() {
        let mut t = IqTracker::new("x".into());
        let now = Instant::now();
        t.register(now, ConnId::Client, "a", Duration::from_secs(5), 'a');
        t.register(now, ConnId::Client, "b", Duration::from_secs(1), 'b');
        t.register(now, ConnId::Component, "c", Duration::from_secs(9), 'c');
        assert_eq!(t.poll_timeout(), Some(now + Duration::from_secs(1)));
        assert_eq!(t.pop_expired(now), None);
        assert_eq!(t.pop_expired(now + Duration::from_secs(6)), Some('b'));
        assert_eq!(t.pop_expired(now + Duration::from_secs(6)), Some('a'));
        assert_eq!(t.pop_expired(now + Duration::from_secs(6)), None);
        assert_eq!(t.drain_conn(ConnId::Component), vec!['c']);
        assert_eq!(t.poll_timeout(), None);
    }

    #[test]
    fn ids_on_the_stack_read_as_formatted_ones() {
        let mut buf = [0u8; 64];
        for seq in [0, 1, 9, 10, 15, 16, 255, 256, 0xdead_beef, u64::MAX] {
            assert_eq!(
                format_id(&mut buf, "fc1x", seq),
                Some(format!("fc1x{seq:x}").as_str())
            );
        }
        assert_eq!(format_id(&mut buf, &"p".repeat(60), u64::MAX), None);
        let mut t = IqTracker::new("p".repeat(60));
        let now = Instant::now();
        let id = t.register_with(now, ConnId::Client, "a", T, 1, str::to_string);
        assert_eq!(id, format!("{}1", "p".repeat(60)));
        assert_eq!(t.take_reply(ConnId::Client, &id, Some("a")), Ok(1));
    }

    #[test]
    fn a_drained_burst_gives_its_table_back() {
        let mut t = IqTracker::new("x".into());
        let now = Instant::now();
        let ids: Vec<String> = (0..1000)
            .map(|i| t.register(now, ConnId::Client, "a", T, i))
            .collect();
        assert!(t.pending.capacity() >= 1000);
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(t.take_reply(ConnId::Client, id, Some("a")), Ok(i));
        }
        assert!(t.is_empty());
        assert!(t.pending.capacity() <= IDLE_CAPACITY);
        // A small working set keeps its table.
        let id = t.register(now, ConnId::Client, "a", T, 1);
        let cap = t.pending.capacity();
        assert_eq!(t.take_reply(ConnId::Client, &id, Some("a")), Ok(1));
        assert_eq!(t.pending.capacity(), cap);
        assert_eq!(t.poll_timeout(), None);
    }

    #[test]
    fn cancel_forgets_silently() {
        let mut t = IqTracker::new("x".into());
        let now = Instant::now();
        let id = t.register(now, ConnId::Client, "a", T, 1);
        t.register(now, ConnId::Client, "b", T, 2);
        t.cancel_where(|k| *k == 1);
        assert_eq!(t.len(), 1);
        assert_eq!(
            t.take_reply(ConnId::Client, &id, Some("a")),
            Err(Mismatch::Unknown)
        );
    }
}
