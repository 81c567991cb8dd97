//! The store's error type. Database text never reaches a user: the service maps these to its own
//! errors and logs the detail.

use sea_orm::{DbErr, SqlErr};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("记录不存在")]
    NotFound,
    /// A unique constraint was violated; the text names the constraint or column when known.
    #[error("记录重复：{0}")]
    Duplicate(String),
    /// A foreign key was violated (a referenced row is missing, or a row is still referenced).
    #[error("关联数据不一致：{0}")]
    ForeignKey(String),
    /// `UPDATE … WHERE state = ?` matched nothing: someone else changed the row first.
    #[error("数据已被他人修改，请刷新后重试")]
    Conflict,
    #[error("写操作缺少审计记录")]
    Unaudited,
    #[error("配置错误：{0}")]
    Config(String),
    #[error("数据库错误：{0}")]
    Db(DbErr),
    #[error("数据格式错误：{0}")]
    Corrupt(String),
}

impl From<DbErr> for StoreError {
    fn from(e: DbErr) -> Self {
        match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(msg)) => StoreError::Duplicate(msg),
            Some(SqlErr::ForeignKeyConstraintViolation(msg)) => StoreError::ForeignKey(msg),
            _ => match e {
                DbErr::RecordNotFound(_) => StoreError::NotFound,
                other => StoreError::Db(other),
            },
        }
    }
}

impl From<sea_orm::TransactionError<StoreError>> for StoreError {
    fn from(e: sea_orm::TransactionError<StoreError>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(c) => c.into(),
            sea_orm::TransactionError::Transaction(t) => t,
        }
    }
}
