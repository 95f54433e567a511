//! The access rule takes part route steps only once the route reaches them.
//! Letters routed before that rule gave every named reviewer and signer an
//! entry in the letter's ALL folder (its participants) at once; this removes
//! the entries of steps that have not been reached: in a letter still being
//! drafted, in review or approved (states 1, 2 and 4), a step of the route
//! that has decided nothing, is not the current one (no TO_REVIEW or TO_SIGN
//! entry) and is not the drafting position. Letters in other states keep
//! their entries.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQL: &str = "DELETE FROM letter_box \
    WHERE folder = 7 \
    AND EXISTS (SELECT 1 FROM letter l WHERE l.id = letter_box.letter_id \
        AND l.state IN (1, 2, 4) AND l.drafting_position_id <> letter_box.position_id) \
    AND EXISTS (SELECT 1 FROM letter_step s WHERE s.letter_id = letter_box.letter_id \
        AND s.position_id = letter_box.position_id) \
    AND NOT EXISTS (SELECT 1 FROM letter_step s WHERE s.letter_id = letter_box.letter_id \
        AND s.position_id = letter_box.position_id AND s.decision <> 1) \
    AND NOT EXISTS (SELECT 1 FROM letter_box b WHERE b.letter_id = letter_box.letter_id \
        AND b.position_id = letter_box.position_id AND b.folder IN (4, 5))";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared(SQL).await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        // The removed entries granted reads the rule does not; nothing to restore.
        Ok(())
    }
}
