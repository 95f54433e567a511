//! The access rule, checked exhaustively: two agencies in one installation,
//! letters at every security level in every state, drafts, attachments,
//! dispositions and case files; every user of both agencies asks for every
//! resource id through every RPC that reads by id or lists. Each answer must be
//! what the written rule (docs/design.md, "Who may read what") says, and every
//! refusal must be indistinguishable from the answer to an id that does not
//! exist.
//!
//! The rule, as this test computes it without asking the server: a letter is
//! readable by the users who hold, act for or serve as secretary a position
//! that takes part in it: its drafter, each route step once the route reached
//! it, its recipients and copies once it is sent, its disposition recipients,
//! and for an incoming letter the registrar's position and its recipients.
//! Nothing else (no role, no security level, no agency membership) grants a
//! read; another agency's users see nothing of it.

mod acting;
mod agency_b;
mod reads;
mod sweep;
