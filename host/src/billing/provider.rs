//! Where money moves: a [`PaymentProvider`] charges an organization's saved payment method.
//! [`RecordingProvider`] is the one Bazaar ships: it records each charge and accepts it, so the
//! ledger, statements and payouts are whole without a card processor. A real provider calls its
//! processor's API with the organization's customer id and the idempotency key, and returns the
//! processor's reference (or its decline as [`PaymentError`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

/// One charge to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeRequest {
    /// The paying organization.
    pub org_id: String,
    pub amount_cents: i64,
    pub currency: String,
    /// What the payer's statement says.
    pub description: String,
    /// The same key means the same charge: a retried or raced charge is made once.
    pub idempotency_key: String,
}

/// A charge made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The provider's reference for it.
    pub reference: String,
}

/// Why a charge was not made.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PaymentError(pub String);

/// A future a provider returns.
pub type Charging<'a> = Pin<Box<dyn Future<Output = Result<Receipt, PaymentError>> + Send + 'a>>;

/// Charges organizations.
pub trait PaymentProvider: Send + Sync {
    fn charge<'a>(&'a self, request: &'a ChargeRequest) -> Charging<'a>;
}

/// Records every charge and accepts it; the same idempotency key gives the same receipt.
#[derive(Debug, Default)]
pub struct RecordingProvider {
    charges: Mutex<Vec<(ChargeRequest, Receipt)>>,
}

impl RecordingProvider {
    /// The charges made so far, in order.
    pub fn charges(&self) -> Vec<ChargeRequest> {
        self.charges
            .lock()
            .map(|c| c.iter().map(|(r, _)| r.clone()).collect())
            .unwrap_or_default()
    }
}

impl PaymentProvider for RecordingProvider {
    fn charge<'a>(&'a self, request: &'a ChargeRequest) -> Charging<'a> {
        Box::pin(async move {
            let mut charges = self
                .charges
                .lock()
                .map_err(|_| PaymentError("the recording provider failed".into()))?;
            if let Some((_, receipt)) = charges
                .iter()
                .find(|(r, _)| r.idempotency_key == request.idempotency_key)
            {
                return Ok(receipt.clone());
            }
            let receipt = Receipt {
                reference: format!("recorded_{}", charges.len() + 1),
            };
            charges.push((request.clone(), receipt.clone()));
            Ok(receipt)
        })
    }
}
