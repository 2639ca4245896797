//! The collection's payload index, shared by its workers: a payload's sha256 to the response
//! record that first stored it (record ID, URI, `WARC-Date`, file and offset). A worker adds
//! what it stored once its writer has flushed the records to their file, never before, so a
//! revisit only ever refers to a record that was written; a payload two workers fetch in the
//! same instant may be stored twice, which costs space and loses nothing.

use std::sync::{Arc, Mutex};

use tokio_postgres::Client;

use super::StateError;

/// A response record as written, for the index.
#[derive(Debug, Clone)]
pub struct StoredPayload {
    pub sha256: [u8; 32],
    pub record_id: String,
    pub target_uri: String,
    pub date: String,
    pub file: String,
    pub offset: u64,
}

/// The record a payload was first stored in: what a revisit names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstStored {
    pub record_id: String,
    pub target_uri: String,
    pub date: String,
}

/// Payloads flushed to their files and not yet in the shared index: the writer thread puts,
/// the crawl takes.
pub type Outbox = Arc<Mutex<Vec<StoredPayload>>>;

pub struct SharedPayloads {
    client: Arc<Client>,
    collection: String,
}

impl SharedPayloads {
    pub fn new(client: Arc<Client>, collection: String) -> SharedPayloads {
        SharedPayloads { client, collection }
    }

    /// The record that stored this payload first, if any worker of the collection has.
    pub async fn first_stored(&self, sha256: &[u8; 32]) -> Result<Option<FirstStored>, StateError> {
        let row = self
            .client
            .query_opt(
                "SELECT record_id, uri, date FROM cairn_payloads
                 WHERE collection = $1 AND digest = $2",
                &[&self.collection, &&sha256[..]],
            )
            .await?;
        Ok(row.map(|row| FirstStored {
            record_id: row.get(0),
            target_uri: row.get(1),
            date: row.get(2),
        }))
    }

    /// Adds what this worker stored; a payload another worker stored first keeps its record.
    pub async fn add(&self, stored: &[StoredPayload]) -> Result<(), StateError> {
        if stored.is_empty() {
            return Ok(());
        }
        let digests: Vec<&[u8]> = stored.iter().map(|s| &s.sha256[..]).collect();
        let ids: Vec<&str> = stored.iter().map(|s| s.record_id.as_str()).collect();
        let uris: Vec<&str> = stored.iter().map(|s| s.target_uri.as_str()).collect();
        let dates: Vec<&str> = stored.iter().map(|s| s.date.as_str()).collect();
        let files: Vec<&str> = stored.iter().map(|s| s.file.as_str()).collect();
        let offsets: Vec<i64> = stored
            .iter()
            .map(|s| i64::try_from(s.offset).unwrap_or(i64::MAX))
            .collect();
        self.client
            .execute(
                "INSERT INTO cairn_payloads
                     (collection, digest, record_id, uri, date, file, record_offset)
                 SELECT $1, * FROM unnest($2::bytea[], $3::text[], $4::text[], $5::text[],
                     $6::text[], $7::bigint[])
                 ON CONFLICT DO NOTHING",
                &[
                    &self.collection,
                    &digests,
                    &ids,
                    &uris,
                    &dates,
                    &files,
                    &offsets,
                ],
            )
            .await?;
        Ok(())
    }
}
