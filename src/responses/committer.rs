//! Group commit for submissions: a few writer threads, each taking every submission waiting at the
//! moment it is free (up to `ANSWER_BATCH`), storing them in **one** transaction and answering
//! none of them before that transaction has committed.
//!
//! Why: with one transaction per answer, each answer waits for its own WAL flush, so answers per
//! second are bounded by flushes per second (PostgreSQL's ceiling measured by `bench/answers.sh`).
//! Here one flush makes a whole batch durable. Batches form by themselves: when the service is
//! idle a writer takes the one submission there is (no added wait); under load, submissions queue
//! while the writers commit and the next batch takes them all.
//!
//! Guarantees, the same as one transaction per answer (see [`submit_batch`]):
//! - a submission is answered (201/200) only after the transaction holding it committed; if the
//!   commit fails, every submission of the batch gets the error (503) and none was acknowledged;
//! - each submission is checked with the same code as a lone one ([`super::submit::prepare`]),
//!   with reads and locks only, so a refusal (409/410/422) has written nothing; the row lock on
//!   the invitation and the unique key on `responses.invitation_id` still make a token answer
//!   once, and a later submission of the batch sees the earlier ones, exactly as if they had
//!   arrived one after the other;
//! - any database error in a batch (a deadlock with another instance's batch, say) rolls the whole
//!   batch back, unacknowledged, and its submissions are then stored one by one, each in its own
//!   transaction, as without group commit.
//!
//! Two instances each run their own writers; they meet only in the database, through the same
//! row locks, advisory locks and unique keys as before.

use std::sync::{Arc, Mutex, mpsc};

use tokio::sync::oneshot;

use super::model::{Outcome, Refusal};
use super::submit::{self, Limits, Submission};
use crate::app::AppState;
use crate::db::Pool;
use crate::error::AppError;
use crate::instrument::Instruments;

/// What a submission gets back: an outcome or a refusal, or an error when it could not be stored.
pub type Reply = Result<Result<Outcome, Refusal>, AppError>;

struct Job {
    submission: Submission,
    /// The request's span, entered while this submission is stored.
    span: tracing::Span,
    reply: oneshot::Sender<Reply>,
}

/// The handle handlers submit through. Cheap to clone; the writers stop when every handle is
/// dropped.
#[derive(Clone)]
pub struct Committer {
    sender: mpsc::Sender<Job>,
}

impl Committer {
    /// Starts `writers` writer threads taking up to `batch` submissions per transaction. Should no
    /// thread start, submissions get a 503.
    pub fn start(
        pool: Pool,
        instruments: Arc<Instruments>,
        limits: Limits,
        writers: u32,
        batch: u32,
    ) -> Self {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..writers.max(1) {
            let writer = Writer {
                pool: pool.clone(),
                instruments: instruments.clone(),
                limits: limits.clone(),
                batch: batch.max(1) as usize,
                receiver: receiver.clone(),
            };
            if let Err(e) =
                std::thread::Builder::new().name(format!("answer-writer-{i}")).spawn(move || writer.run())
            {
                tracing::error!(error = %e, "cannot start an answer writer");
            }
        }
        Committer { sender }
    }

    /// The writers of one instance, as many and as large as its configuration says.
    pub fn for_state(state: &AppState) -> Self {
        let config = &state.config;
        Self::start(
            state.pool.clone(),
            state.instruments.clone(),
            Limits::new(config, state.submissions.clone()),
            config.answer_writers,
            config.answer_batch,
        )
    }

    /// Stores a submission; resolves once its batch has committed (or failed).
    pub async fn submit(&self, submission: Submission) -> Reply {
        let (reply, answer) = oneshot::channel();
        let job = Job { submission, span: tracing::Span::current(), reply };
        self.sender
            .send(job)
            .map_err(|_| AppError::Unavailable("the answer writers have stopped".to_string()))?;
        answer.await.map_err(|_| AppError::internal("an answer writer stopped mid-batch"))?
    }
}

struct Writer {
    pool: Pool,
    instruments: Arc<Instruments>,
    limits: Limits,
    batch: usize,
    receiver: Arc<Mutex<mpsc::Receiver<Job>>>,
}

impl Writer {
    fn run(self) {
        while let Some(jobs) = self.next_batch() {
            self.store(jobs);
        }
    }

    /// Waits for one submission, then takes every other one already waiting, up to the batch size.
    /// `None` when every handle is gone.
    fn next_batch(&self) -> Option<Vec<Job>> {
        let receiver = self.receiver.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let first = receiver.recv().ok()?;
        let mut jobs = vec![first];
        while jobs.len() < self.batch {
            match receiver.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        Some(jobs)
    }

    fn store(&self, jobs: Vec<Job>) {
        let mut conn = match self.pool.get() {
            Ok(conn) => conn,
            Err(e) => {
                let e = AppError::from(e);
                for job in jobs {
                    let _ = job.reply.send(Err(e.clone()));
                }
                return;
            }
        };
        let mut submissions = Vec::with_capacity(jobs.len());
        let mut spans = Vec::with_capacity(jobs.len());
        let mut replies = Vec::with_capacity(jobs.len());
        for job in jobs {
            submissions.push(job.submission);
            spans.push(job.span);
            replies.push(job.reply);
        }
        if submissions.len() > 1 {
            match submit::submit_batch(&mut conn, &self.instruments, &self.limits, &submissions, &spans) {
                Ok(results) => {
                    for (result, reply) in results.into_iter().zip(replies) {
                        let _ = reply.send(Ok(result));
                    }
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, size = submissions.len(), "an answer batch was rolled back; storing its answers one by one");
                }
            }
        }
        // alone (a batch of one, or after a rolled-back batch): one transaction per submission
        for ((sub, span), reply) in submissions.into_iter().zip(spans).zip(replies) {
            let _entered = span.enter();
            let _ = reply.send(Ok(submit::submit(&mut conn, &self.instruments, &self.limits, sub)));
        }
    }
}
