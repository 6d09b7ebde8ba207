//! [`Timestamp`]: a moment in UTC, to the microsecond, as each database keeps it: `timestamptz` in
//! PostgreSQL; in SQLite, which has no time type, RFC 3339 text with six decimals and `Z`, a
//! form whose text order is time order (so `<` in SQL compares times).

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef, Postgres};
use sqlx::sqlite::{Sqlite, SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Type};

/// A moment in UTC, to the microsecond (what PostgreSQL keeps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    /// Now, to the microsecond: what is written is what is read back.
    pub fn now() -> Timestamp {
        Timestamp(Utc::now().trunc_subsecs(6))
    }

    /// Long ago (1970): a claim time that counts as abandoned at once.
    pub const EPOCH: Timestamp = Timestamp(DateTime::UNIX_EPOCH);
}

impl std::ops::Sub<chrono::TimeDelta> for Timestamp {
    type Output = Timestamp;
    fn sub(self, delta: chrono::TimeDelta) -> Timestamp {
        Timestamp(self.0 - delta)
    }
}

impl std::ops::Add<chrono::TimeDelta> for Timestamp {
    type Output = Timestamp;
    fn add(self, delta: chrono::TimeDelta) -> Timestamp {
        Timestamp(self.0 + delta)
    }
}

impl Type<Sqlite> for Timestamp {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for Timestamp {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Sqlite>>::encode(self.0.to_rfc3339_opts(SecondsFormat::Micros, true), buf)
    }
}

impl Timestamp {
    /// Reads RFC 3339 text (SQLite's column; either database's JSON), whatever its offset.
    pub(super) fn parse(text: &str) -> Result<Timestamp, chrono::ParseError> {
        Ok(Timestamp(DateTime::parse_from_rfc3339(text)?.with_timezone(&Utc)))
    }
}

impl<'r> Decode<'r, Sqlite> for Timestamp {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Timestamp::parse(<&str as Decode<'r, Sqlite>>::decode(value)?)?)
    }
}

impl Type<Postgres> for Timestamp {
    fn type_info() -> PgTypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for Timestamp {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <DateTime<Utc> as Encode<'_, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for Timestamp {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Timestamp(<DateTime<Utc> as Decode<'r, Postgres>>::decode(value)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_text_sorts_as_time() {
        let early = Timestamp(DateTime::parse_from_rfc3339("2026-01-01T00:00:00.9Z").unwrap().to_utc());
        let late = Timestamp(DateTime::parse_from_rfc3339("2026-01-01T00:00:01Z").unwrap().to_utc());
        let text = |t: Timestamp| t.0.to_rfc3339_opts(SecondsFormat::Micros, true);
        assert_eq!(text(early), "2026-01-01T00:00:00.900000Z");
        assert!(text(early) < text(late));
        assert_eq!(Timestamp::now().0.timestamp_subsec_nanos() % 1000, 0);
    }
}
