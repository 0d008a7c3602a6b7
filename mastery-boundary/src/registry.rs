//! The session registry: which worker serves each (quiz title, email).
//!
//! Sharded by email so that concurrent callers rarely meet on a lock. Each entry carries the
//! session's id, so a stopping session removes its own entry and never a successor's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc;

use crate::session::Mail;

const SHARDS: usize = 64;

pub(crate) struct Entry {
    pub(crate) id: u64,
    pub(crate) mailbox: mpsc::Sender<Mail>,
}

/// A learner's sessions: few per learner, so a small list beats another map.
type Sessions = Vec<(Arc<str>, Entry)>;

/// One shard: learners by email.
type Shard = HashMap<Arc<str>, Sessions>;

pub(crate) struct Registry {
    shards: Box<[Mutex<Shard>]>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry { shards: (0..SHARDS).map(|_| Mutex::default()).collect() }
    }
}

impl Registry {
    fn shard(&self, email: &str) -> MutexGuard<'_, Shard> {
        // FNV-1a picks the shard; the map inside keeps std's keyed hasher against crafted emails.
        let hash =
            email.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        // A panic never happens while a shard is locked, but if it did the map is still whole.
        self.shards[(hash as usize) % SHARDS].lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a session; `false` if the pair already has one.
    pub(crate) fn insert(&self, title: &Arc<str>, email: &Arc<str>, entry: Entry) -> bool {
        let mut shard = self.shard(email);
        let sessions = shard.entry(Arc::clone(email)).or_default();
        if sessions.iter().any(|(t, _)| t == title) {
            return false;
        }
        sessions.push((Arc::clone(title), entry));
        true
    }

    /// Runs `use_entry` on the pair's entry, under the shard's lock.
    pub(crate) fn with<T>(&self, title: &str, email: &str, use_entry: impl FnOnce(&Entry) -> T) -> Option<T> {
        let shard = self.shard(email);
        let sessions = shard.get(email)?;
        sessions.iter().find(|(t, _)| &**t == title).map(|(_, entry)| use_entry(entry))
    }

    /// Removes the pair's entry if it is still session `id`'s.
    pub(crate) fn remove_if(&self, title: &str, email: &str, id: u64) {
        self.remove_where(email, |t, entry| t == title && entry.id == id);
    }

    /// Removes and returns the pair's entry if it is still session `id`'s.
    pub(crate) fn remove_id(&self, title: &str, email: &str, id: u64) -> Option<Entry> {
        self.remove_where(email, |t, entry| t == title && entry.id == id).pop()
    }

    /// Removes and returns the pair's entry.
    pub(crate) fn remove(&self, title: &str, email: &str) -> Option<Entry> {
        self.remove_where(email, |t, _| t == title).pop()
    }

    fn remove_where(&self, email: &str, matches: impl Fn(&str, &Entry) -> bool) -> Vec<Entry> {
        let mut shard = self.shard(email);
        let Some(sessions) = shard.get_mut(email) else { return Vec::new() };
        let mut removed = Vec::new();
        let mut index = 0;
        while index < sessions.len() {
            if matches(&sessions[index].0, &sessions[index].1) {
                removed.push(sessions.swap_remove(index).1);
            } else {
                index += 1;
            }
        }
        if sessions.is_empty() {
            shard.remove(email);
        }
        removed
    }

    /// Emails with a session of `title`, sorted.
    pub(crate) fn emails_for(&self, title: &str) -> Vec<String> {
        let mut emails: Vec<String> = Vec::new();
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let with_title = shard.iter().filter(|(_, sessions)| sessions.iter().any(|(t, _)| &**t == title));
            emails.extend(with_title.map(|(email, _)| email.to_string()));
        }
        emails.sort_unstable();
        emails
    }

    /// Removes every entry of `title` (or every entry at all), returning them.
    pub(crate) fn drain(&self, title: Option<&str>) -> Vec<Entry> {
        let mut drained = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            shard.retain(|_, sessions| {
                let mut index = 0;
                while index < sessions.len() {
                    if title.is_none_or(|title| &*sessions[index].0 == title) {
                        drained.push(sessions.swap_remove(index).1);
                    } else {
                        index += 1;
                    }
                }
                !sessions.is_empty()
            });
        }
        drained
    }

    /// Live sessions.
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).values().map(Vec::len).sum::<usize>())
            .sum()
    }
}
