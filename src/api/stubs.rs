//! Services of the contract whose RPCs are not served yet. Their generated
//! default methods answer UNIMPLEMENTED; the gate layer names the method in the
//! message. Each is replaced by its real implementation as it lands.

use crate::proto::records_service_server::RecordsService;

/// naskah.v1.RecordsService, not served yet.
#[derive(Debug, Default, Clone, Copy)]
pub struct PendingRecords;
#[tonic::async_trait]
impl RecordsService for PendingRecords {}
