//! Inbox notices: what WatchInbox streams. Mutations record them on their write
//! transaction; they are published only after the transaction commits.

/// What happened (the `InboxEventKind` numbers of the contract).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    LetterReceived = 2,
    LetterCopied = 3,
    ReviewRequested = 4,
    SignatureRequested = 5,
    LetterReturned = 6,
    DispositionReceived = 7,
    DispositionUpdated = 8,
    LetterRead = 9,
}

/// One notice for one position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// What happened.
    pub kind: NoticeKind,
    /// The position concerned.
    pub position_id: String,
    /// The letter concerned.
    pub letter_id: String,
    /// The disposition concerned, if any.
    pub disposition_id: String,
    /// When, microseconds.
    pub time_us: i64,
}

/// The channel notices are published on (one per server process).
pub type Notices = tokio::sync::broadcast::Sender<Notice>;

/// A new channel with room for bursts.
pub fn channel() -> Notices {
    tokio::sync::broadcast::channel(4096).0
}
