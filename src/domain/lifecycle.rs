//! The lifecycles of docs/design.md as state machines: each state is an enum
//! of the domain, each machine has one transition function, and the stored
//! integers (the contract's enum numbers) convert with `TryFrom<i16>` and
//! `From<_> for i16`. The records' state columns are typed by these enums;
//! the store converts at its boundary (`store/entities/stored.rs`), where a
//! number outside a machine's states is a corrupt row.
//!
//! The route step's kind and decision, a letter's folder, direction and
//! addressee kind are stored enums of the same shape, without a machine.
//!
//! Who may cause an event (drafter, current step, signer, sender, recipient)
//! and the checks on the rest of the data (route, recipients, holds) stay with
//! the operation; the machines decide only which state follows which.

use crate::error::{Error, Reason};

/// Declares a state enum over the stored numbers, with its conversions.
macro_rules! states {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $v:ident = $n:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $v = $n),+
        }

        impl $name {
            /// Every state, in number order.
            pub const ALL: &'static [$name] = &[$($name::$v),+];
        }

        impl TryFrom<i16> for $name {
            type Error = Error;
            fn try_from(n: i16) -> Result<Self, Error> {
                match n {
                    $($n => Ok($name::$v),)+
                    other => Err(Error::Internal(format!(
                        concat!("stored ", stringify!($name), " {} is not one of its states"),
                        other
                    ))),
                }
            }
        }

        impl From<$name> for i16 {
            fn from(s: $name) -> i16 {
                s as i16
            }
        }

        /// The contract's number.
        impl From<$name> for i32 {
            fn from(s: $name) -> i32 {
                s as i32
            }
        }
    };
}

states!(
    /// A letter's state (the contract's `LetterState`).
    LetterState {
        Draft = 1,
        InReview = 2,
        Returned = 3,
        Approved = 4,
        /// Kept for the contract: signing sends in the same transaction, so a
        /// letter is never left signed but unsent.
        Signed = 5,
        Sent = 6,
        Withdrawn = 7,
        /// Kept for the contract: registering an incoming letter delivers it
        /// in the same transaction.
        Registered = 8,
        Delivered = 9,
        Destroyed = 10,
    }
);

/// What happens to a letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LetterEvent {
    /// Content, addressees or route change (UpdateDraft, SetRoute).
    Edit,
    /// Into the route; `signer_first` when the route has no reviewer.
    Submit { signer_first: bool },
    /// A reviewer approves; `signer_next` when the next step is the signer's.
    Approve { signer_next: bool },
    /// A reviewer or the signer returns it to the drafter.
    Return,
    /// Signed, numbered and sent in one transaction.
    Sign,
    /// The drafter withdraws it.
    Withdraw,
    /// Its content is destroyed under an approved disposal.
    Destroy,
}

impl LetterState {
    /// A new outgoing letter.
    pub const OUTGOING: LetterState = LetterState::Draft;
    /// A registered incoming letter (delivered as it is registered).
    pub const INCOMING: LetterState = LetterState::Delivered;

    /// The state after `e`, or why `e` cannot happen now.
    pub fn on(self, e: LetterEvent) -> Result<LetterState, Error> {
        use LetterEvent as E;
        use LetterState as S;
        let signed = matches!(self, S::Signed | S::Sent);
        match (self, e) {
            (S::Draft | S::Returned, E::Edit) => Ok(self),
            (S::Draft | S::Returned, E::Submit { signer_first }) => Ok(if signer_first {
                S::Approved
            } else {
                S::InReview
            }),
            (S::InReview, E::Approve { signer_next }) => Ok(if signer_next {
                S::Approved
            } else {
                S::InReview
            }),
            (S::InReview | S::Approved, E::Return) => Ok(S::Returned),
            (S::Approved, E::Sign) => Ok(S::Sent),
            (S::Draft | S::InReview | S::Returned | S::Approved, E::Withdraw) => Ok(S::Withdrawn),
            (S::Sent | S::Delivered, E::Destroy) => Ok(S::Destroyed),
            (_, E::Edit | E::Submit { .. }) if signed => Err(Error::rejected(
                Reason::LetterAlreadySigned,
                "a signed letter cannot change; write a new letter that references it",
            )),
            (_, E::Edit | E::Submit { .. }) => Err(Error::rejected(
                Reason::LetterNotEditable,
                "the letter can be edited only as a draft or when returned",
            )),
            (_, E::Sign) if signed => Err(Error::rejected(
                Reason::LetterAlreadySigned,
                "the letter is already signed",
            )),
            (_, E::Withdraw) if signed => Err(Error::rejected(
                Reason::LetterAlreadySigned,
                "a signed letter cannot be withdrawn",
            )),
            (_, e) => Err(Error::rejected(
                Reason::InvalidState,
                match e {
                    E::Edit | E::Submit { .. } => {
                        "the letter can be edited only as a draft or when returned"
                    }
                    E::Approve { .. } => "the letter is not in review",
                    E::Return => "the letter is not in its route",
                    E::Sign => "only an approved letter can be signed",
                    E::Withdraw => "the letter cannot be withdrawn in its state",
                    E::Destroy => "only a sent or delivered letter can be destroyed",
                },
            )),
        }
    }

    /// True when no event changes the letter any more.
    pub fn is_final(self) -> bool {
        matches!(self, LetterState::Withdrawn | LetterState::Destroyed)
    }
}

states!(
    /// What a route step asks of its position (the contract's `RouteStepKind`).
    StepKind {
        Reviewer = 1,
        Signer = 2,
    }
);

states!(
    /// A route step's decision (the contract's `StepDecision`): pending
    /// until its position approves or returns; every decision of the route
    /// is pending again when the letter is submitted again.
    Decision {
        Pending = 1,
        Approved = 2,
        Returned = 3,
    }
);

states!(
    /// A letter's folder for a position (the contract's `Folder`).
    Folder {
        Inbox = 1,
        Cc = 2,
        Drafts = 3,
        ToReview = 4,
        ToSign = 5,
        Sent = 6,
        /// Every letter the position takes part in (see
        /// `letters::visibility::Part`).
        All = 7,
    }
);

states!(
    /// Whether a letter was written here or received.
    Direction {
        Outgoing = 1,
        Incoming = 2,
    }
);

states!(
    /// How a letter addresses a position or an outside party.
    AddresseeKind {
        To = 1,
        Cc = 2,
    }
);

states!(
    /// A disposition's own state.
    DispositionState {
        /// Drafted by a secretary, waiting for the head's confirmation.
        Draft = 1,
        /// Sent to its recipients.
        Active = 2,
        Cancelled = 3,
    }
);

/// What happens to a disposition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DispositionEvent {
    /// The head confirms a secretary's draft and sends it.
    Confirm,
    /// The sender cancels it (while every recipient has it unread).
    Cancel,
}

impl DispositionState {
    /// The state after `e`, or why `e` cannot happen now.
    pub fn on(self, e: DispositionEvent) -> Result<DispositionState, Error> {
        match (self, e) {
            (DispositionState::Draft, DispositionEvent::Confirm) => Ok(DispositionState::Active),
            (DispositionState::Active, DispositionEvent::Cancel) => Ok(DispositionState::Cancelled),
            (_, DispositionEvent::Confirm) => Err(Error::rejected(
                Reason::NotADraft,
                "the disposition is not a draft",
            )),
            (_, DispositionEvent::Cancel) => Err(Error::rejected(
                Reason::InvalidState,
                "only a sent disposition can be cancelled",
            )),
        }
    }
}

states!(
    /// A disposition's status for one recipient (the contract's
    /// `DispositionStatus`).
    RecipientStatus {
        /// The disposition is still a draft.
        Draft = 1,
        Unread = 2,
        Read = 3,
        InProgress = 4,
        Done = 5,
        Cancelled = 6,
    }
);

/// What happens to a disposition for one recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecipientEvent {
    /// The draft is confirmed and sent.
    Send,
    /// The recipient opens it (again: no change).
    Read,
    /// The recipient reports progress.
    Progress,
    /// The recipient reports it done.
    Finish,
    /// The sender cancels it.
    Cancel,
}

impl RecipientStatus {
    /// The status after `e`, or why `e` cannot happen now.
    pub fn on(self, e: RecipientEvent) -> Result<RecipientStatus, Error> {
        use RecipientEvent as E;
        use RecipientStatus as S;
        match (self, e) {
            (S::Draft, E::Send) => Ok(S::Unread),
            (S::Unread, E::Read) => Ok(S::Read),
            (S::Read | S::InProgress | S::Done, E::Read) => Ok(self),
            (S::Unread | S::Read | S::InProgress, E::Progress) => Ok(S::InProgress),
            (S::Unread | S::Read | S::InProgress, E::Finish) => Ok(S::Done),
            (S::Unread, E::Cancel) => Ok(S::Cancelled),
            (_, E::Cancel) => Err(Error::rejected(
                Reason::AlreadyRead,
                "a recipient has already read the disposition",
            )),
            _ => Err(Error::rejected(
                Reason::InvalidState,
                "the disposition is closed for this position",
            )),
        }
    }
}

states!(
    /// A case file's state.
    CaseFileState {
        Open = 1,
        Closed = 2,
        /// Destroyed under an approved disposal (a residual record remains).
        Destroyed = 3,
        /// Transferred to the archives under an approved disposal.
        Transferred = 4,
    }
);

/// What happens to a case file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CaseFileEvent {
    /// A letter is filed in it.
    File,
    /// It is closed; its retention starts.
    Close,
    /// An executed disposal destroys it.
    Destroy,
    /// An executed disposal transfers it.
    Transfer,
}

impl CaseFileState {
    /// The state after `e`, or why `e` cannot happen now.
    pub fn on(self, e: CaseFileEvent) -> Result<CaseFileState, Error> {
        use CaseFileEvent as E;
        use CaseFileState as S;
        match (self, e) {
            (S::Open, E::File) => Ok(S::Open),
            (S::Open, E::Close) => Ok(S::Closed),
            (S::Closed, E::Destroy) => Ok(S::Destroyed),
            (S::Closed, E::Transfer) => Ok(S::Transferred),
            (_, E::File) => Err(Error::rejected(
                Reason::CaseFileClosed,
                "letters can be filed only into an open case file",
            )),
            (_, E::Close) => Err(Error::rejected(
                Reason::CaseFileClosed,
                "the case file is already closed",
            )),
            (_, E::Destroy | E::Transfer) => Err(Error::rejected(
                Reason::InvalidState,
                "only a closed case file is disposed of",
            )),
        }
    }
}

states!(
    /// A disposal proposal's state.
    ProposalState {
        Proposed = 1,
        Approved = 2,
        Executed = 3,
    }
);

/// What happens to a disposal proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProposalEvent {
    /// The last required approval is given.
    Approve,
    /// The records officer carries it out.
    Execute,
}

impl ProposalState {
    /// The state after `e`, or why `e` cannot happen now.
    pub fn on(self, e: ProposalEvent) -> Result<ProposalState, Error> {
        match (self, e) {
            (ProposalState::Proposed, ProposalEvent::Approve) => Ok(ProposalState::Approved),
            (ProposalState::Approved, ProposalEvent::Execute) => Ok(ProposalState::Executed),
            (_, ProposalEvent::Approve) => Err(Error::rejected(
                Reason::AlreadyApproved,
                "the proposal is no longer waiting for approvals",
            )),
            (ProposalState::Executed, ProposalEvent::Execute) => Err(Error::rejected(
                Reason::NotApproved,
                "the proposal was already executed",
            )),
            (_, ProposalEvent::Execute) => Err(Error::rejected(
                Reason::NotApproved,
                "the proposal still lacks approvals",
            )),
        }
    }
}

states!(
    /// Where a consignment to another agency stands (the contract's
    /// `DispatchStatus`).
    DispatchStatus {
        /// Written in the signing transaction; waiting for the relay.
        Queued = 1,
        /// Sent at least once without a receipt back (the answer was lost or
        /// the peer did not answer); sent again until a receipt comes.
        Sent = 2,
        /// The receiver answered with a signed delivery receipt.
        Delivered = 3,
        /// The receiver's signed outcome: registered, with its number.
        Registered = 4,
        /// The receiver's signed outcome: refused, with a code.
        Refused = 5,
        /// Given up after the relay's give-up time; a registrar may retry.
        Failed = 6,
        /// Cancelled by a registrar before it was delivered.
        Cancelled = 7,
    }
);

/// What happens to a consignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DispatchEvent {
    /// An attempt reached the wire but brought no receipt back.
    Transmitted,
    /// A signed delivery receipt came back.
    Receipt,
    /// A signed outcome came back: registered (`true`) or refused.
    Outcome { registered: bool },
    /// The relay gives up (its give-up time passed).
    GiveUp,
    /// A registrar queues it again.
    Retry,
    /// A registrar cancels it.
    Cancel,
}

impl DispatchStatus {
    /// The status after `e`, or why `e` cannot happen now.
    pub fn on(self, e: DispatchEvent) -> Result<DispatchStatus, Error> {
        use DispatchEvent as E;
        use DispatchStatus as S;
        match (self, e) {
            (S::Queued | S::Sent, E::Transmitted) => Ok(S::Sent),
            (S::Queued | S::Sent | S::Failed | S::Cancelled, E::Receipt) => Ok(S::Delivered),
            (S::Delivered | S::Registered | S::Refused, E::Receipt) => Ok(self),
            (S::Registered | S::Refused, E::Outcome { .. }) => Ok(self),
            (_, E::Outcome { registered: true }) => Ok(S::Registered),
            (_, E::Outcome { registered: false }) => Ok(S::Refused),
            (S::Queued | S::Sent, E::GiveUp) => Ok(S::Failed),
            (S::Failed | S::Cancelled, E::Retry) => Ok(S::Queued),
            (S::Queued | S::Sent | S::Failed, E::Cancel) => Ok(S::Cancelled),
            _ => Err(Error::rejected(
                Reason::InvalidState,
                "the dispatch cannot do that in its current status",
            )),
        }
    }

    /// Whether the relay still sends it.
    pub fn pending(self) -> bool {
        matches!(self, DispatchStatus::Queued | DispatchStatus::Sent)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, VecDeque};

    use proptest::prelude::*;

    use super::*;

    fn letter_event() -> impl Strategy<Value = LetterEvent> {
        prop_oneof![
            Just(LetterEvent::Edit),
            any::<bool>().prop_map(|signer_first| LetterEvent::Submit { signer_first }),
            any::<bool>().prop_map(|signer_next| LetterEvent::Approve { signer_next }),
            Just(LetterEvent::Return),
            Just(LetterEvent::Sign),
            Just(LetterEvent::Withdraw),
            Just(LetterEvent::Destroy),
        ]
    }

    fn recipient_event() -> impl Strategy<Value = RecipientEvent> {
        prop_oneof![
            Just(RecipientEvent::Send),
            Just(RecipientEvent::Read),
            Just(RecipientEvent::Progress),
            Just(RecipientEvent::Finish),
            Just(RecipientEvent::Cancel),
        ]
    }

    proptest! {
        /// Whatever happens to an outgoing letter: it is signed only after
        /// approval, a sent letter changes only by destruction, a withdrawn or
        /// destroyed one never changes, it is never left SIGNED and never
        /// becomes REGISTERED or DELIVERED; a refused event changes nothing.
        #[test]
        fn an_outgoing_letter_never_reaches_an_illegal_state(
            events in proptest::collection::vec(letter_event(), 0..40)
        ) {
            let mut s = LetterState::OUTGOING;
            let mut approved_once = false;
            for e in events {
                match s.on(e) {
                    Ok(next) => {
                        prop_assert!(!s.is_final(), "{s:?} is final but {e:?} moved it");
                        if s == LetterState::Sent {
                            prop_assert_eq!(next, LetterState::Destroyed);
                        }
                        if next == LetterState::Sent {
                            prop_assert!(approved_once && s == LetterState::Approved);
                        }
                        prop_assert!(!matches!(
                            next,
                            LetterState::Signed | LetterState::Registered | LetterState::Delivered
                        ));
                        approved_once |= next == LetterState::Approved;
                        s = next;
                    }
                    Err(err) => {
                        // Refusals carry a stable reason.
                        prop_assert!(matches!(
                            err.reason(),
                            Some(Reason::InvalidState | Reason::LetterAlreadySigned | Reason::LetterNotEditable)
                        ));
                    }
                }
            }
        }

        /// An incoming letter is only ever destroyed.
        #[test]
        fn an_incoming_letter_changes_only_by_destruction(
            events in proptest::collection::vec(letter_event(), 0..20)
        ) {
            let mut s = LetterState::INCOMING;
            for e in events {
                if let Ok(next) = s.on(e) {
                    prop_assert_eq!((s, e, next), (LetterState::Delivered, LetterEvent::Destroy, LetterState::Destroyed));
                    s = next;
                }
            }
        }

        /// A recipient's status never goes back: once read it is never unread
        /// again, once done or cancelled it never changes, and a cancelled
        /// disposition was never read.
        #[test]
        fn a_recipient_status_never_goes_back(
            events in proptest::collection::vec(recipient_event(), 0..30)
        ) {
            let mut s = RecipientStatus::Draft;
            let mut read = false;
            for e in events {
                if let Ok(next) = s.on(e) {
                    if matches!(s, RecipientStatus::Done | RecipientStatus::Cancelled) {
                        prop_assert_eq!(next, s);
                    }
                    if read {
                        prop_assert!(!matches!(next, RecipientStatus::Unread | RecipientStatus::Draft | RecipientStatus::Cancelled));
                    }
                    read |= matches!(next, RecipientStatus::Read | RecipientStatus::InProgress | RecipientStatus::Done);
                    s = next;
                }
            }
        }
    }

    /// The states reachable from `start` through `events`, and the
    /// transitions taken.
    fn reach<S, E>(
        start: S,
        events: &[E],
        on: impl Fn(S, E) -> Result<S, Error>,
    ) -> BTreeSet<(S, S)>
    where
        S: Copy + Ord,
        E: Copy,
    {
        let mut seen = BTreeSet::from([start]);
        let mut edges = BTreeSet::new();
        let mut queue = VecDeque::from([start]);
        while let Some(s) = queue.pop_front() {
            for e in events {
                if let Ok(next) = on(s, *e) {
                    edges.insert((s, next));
                    if seen.insert(next) {
                        queue.push_back(next);
                    }
                }
            }
        }
        edges
    }

    /// Every transition docs/design.md names is reachable from a new letter,
    /// and no other change of state is.
    #[test]
    fn every_documented_letter_path_is_reachable() {
        use LetterEvent as E;
        use LetterState as S;
        let events = [
            E::Edit,
            E::Submit {
                signer_first: false,
            },
            E::Submit { signer_first: true },
            E::Approve { signer_next: false },
            E::Approve { signer_next: true },
            E::Return,
            E::Sign,
            E::Withdraw,
            E::Destroy,
        ];
        let edges: BTreeSet<(S, S)> = reach(S::OUTGOING, &events, S::on)
            .into_iter()
            .filter(|(a, b)| a != b)
            .collect();
        let documented = BTreeSet::from([
            (S::Draft, S::InReview),
            (S::Draft, S::Approved),
            (S::InReview, S::Approved),
            (S::InReview, S::Returned),
            (S::Approved, S::Returned),
            (S::Returned, S::InReview),
            (S::Returned, S::Approved),
            (S::Approved, S::Sent),
            (S::Draft, S::Withdrawn),
            (S::InReview, S::Withdrawn),
            (S::Returned, S::Withdrawn),
            (S::Approved, S::Withdrawn),
            (S::Sent, S::Destroyed),
        ]);
        assert_eq!(edges, documented);
        let incoming: BTreeSet<(S, S)> = reach(S::INCOMING, &events, S::on)
            .into_iter()
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(incoming, BTreeSet::from([(S::Delivered, S::Destroyed)]));
    }

    /// The disposition, recipient, case file and proposal machines reach
    /// every documented transition and no other.
    #[test]
    fn every_documented_path_of_the_other_machines_is_reachable() {
        use RecipientStatus as R;
        let recipient: BTreeSet<_> = reach(
            R::Draft,
            &[
                RecipientEvent::Send,
                RecipientEvent::Read,
                RecipientEvent::Progress,
                RecipientEvent::Finish,
                RecipientEvent::Cancel,
            ],
            R::on,
        )
        .into_iter()
        .filter(|(a, b)| a != b)
        .collect();
        assert_eq!(
            recipient,
            BTreeSet::from([
                (R::Draft, R::Unread),
                (R::Unread, R::Read),
                (R::Unread, R::InProgress),
                (R::Unread, R::Done),
                (R::Unread, R::Cancelled),
                (R::Read, R::InProgress),
                (R::Read, R::Done),
                (R::InProgress, R::Done),
            ])
        );
        use DispositionState as D;
        assert_eq!(
            reach(
                D::Draft,
                &[DispositionEvent::Confirm, DispositionEvent::Cancel],
                D::on
            ),
            BTreeSet::from([(D::Draft, D::Active), (D::Active, D::Cancelled)])
        );
        use CaseFileState as C;
        let case_file: BTreeSet<_> = reach(
            C::Open,
            &[
                CaseFileEvent::File,
                CaseFileEvent::Close,
                CaseFileEvent::Destroy,
                CaseFileEvent::Transfer,
            ],
            C::on,
        )
        .into_iter()
        .filter(|(a, b)| a != b)
        .collect();
        assert_eq!(
            case_file,
            BTreeSet::from([
                (C::Open, C::Closed),
                (C::Closed, C::Destroyed),
                (C::Closed, C::Transferred),
            ])
        );
        use ProposalState as P;
        assert_eq!(
            reach(
                P::Proposed,
                &[ProposalEvent::Approve, ProposalEvent::Execute],
                P::on
            ),
            BTreeSet::from([(P::Proposed, P::Approved), (P::Approved, P::Executed)])
        );
    }

    /// The stored numbers are the contract's, both ways, and a number
    /// outside a machine is refused.
    #[test]
    fn states_convert_to_and_from_the_stored_numbers() {
        use crate::proto;
        for s in LetterState::ALL {
            let n = i16::from(*s);
            assert_eq!(LetterState::try_from(n).ok(), Some(*s));
            assert!(proto::LetterState::try_from(i32::from(n)).is_ok());
        }
        for s in RecipientStatus::ALL {
            let n = i16::from(*s);
            assert_eq!(RecipientStatus::try_from(n).ok(), Some(*s));
            assert!(proto::DispositionStatus::try_from(i32::from(n)).is_ok());
        }
        for f in Folder::ALL {
            assert!(proto::Folder::try_from(i32::from(*f)).is_ok());
        }
        assert_eq!(
            proto::Folder::try_from(i32::from(Folder::All)),
            Ok(proto::Folder::AllVisible)
        );
        for s in StepKind::ALL {
            assert!(proto::RouteStepKind::try_from(i32::from(*s)).is_ok());
        }
        for s in Decision::ALL {
            assert!(proto::StepDecision::try_from(i32::from(*s)).is_ok());
        }
        assert_eq!(
            proto::LetterState::try_from(i32::from(i16::from(LetterState::Sent))),
            Ok(proto::LetterState::Sent)
        );
        assert!(LetterState::try_from(0).is_err());
        assert!(LetterState::try_from(11).is_err());
        assert!(CaseFileState::try_from(5).is_err());
        assert!(ProposalState::try_from(-1).is_err());
    }
}
