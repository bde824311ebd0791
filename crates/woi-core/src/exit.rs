//! Exit-code semantics (spec 01 §3.1, spec 02 §3.9–3.11, decisions D1–D3).
//!
//! A job's end is described by an [`ExitCode`]: the scheduler-level `code`
//! used for status and branching, the `raw` value when it differs (a command
//! code ≥ 256, or the 0x40000222 line of a forced termination), and the
//! [`Origin`] of the code, since "normal regardless of exit code" and the
//! normal upper limit apply only to codes the command itself returned (D3).

use serde::{Deserialize, Serialize};

/// Job ended abnormally (first of the 201–231 range).
pub const ABNORMAL: u32 = 201;
/// Copy start of a jobnet failed.
pub const COPY_START_FAILED: u32 = 242;
/// A variable value contains a forbidden character.
pub const VARIABLE_FORBIDDEN_CHAR: u32 = 245;
/// A substituted value is too long, or more than 640 jobnet variables.
pub const VARIABLE_TOO_LONG: u32 = 246;
/// Reading or writing variables failed (incl. an undefined jobnet variable).
pub const VARIABLE_IO: u32 = 247;
/// The job-management environment stopped while the job was running.
pub const ENVIRONMENT_STOPPED: u32 = 239;
/// OR wait: another predecessor ended normally.
pub const OR_WAIT_OTHER_NORMAL: u32 = 248;
/// OR wait: another predecessor ended abnormally.
pub const OR_WAIT_OTHER_ABNORMAL: u32 = 249;
/// Acquiring execution information failed.
pub const EXEC_INFO_FAILED: u32 = 250;
/// Changing to the job's directory failed.
pub const CHDIR_FAILED: u32 = 253;
/// Starting the job failed (command not found, not executable).
pub const START_FAILED: u32 = 254;
/// The job's real exit code was 256 or more.
pub const OVERFLOW: u32 = 255;
/// The job was forcibly terminated.
pub const FORCED: u32 = 256;
/// Interruption code: forcibly terminated (cancel or execution-control stop).
pub const INT_FORCED: u32 = 0x4000_0222;
/// Interruption code: cut-off (elapsed-time limit) reached.
pub const INT_CUTOFF: u32 = 0x4000_0322;
/// Interruption codes of manual 8.5.2.
pub const INTERRUPTION_CODES: [u32; 9] =
    [0x4000_0008, 0x4000_0016, 0x4000_0020, 0x4000_0024, 0x4000_0132, INT_FORCED, INT_CUTOFF, 0x4000_0913, 0x4000_0999];

/// Who produced an exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The job's own command (or built-in/adapter logic standing for it).
    Command,
    /// The scheduler (201–256).
    Scheduler,
    /// Job execution control (0x4000xxxx interruption codes).
    ExecutionControl,
}

/// How a job ended, as the scheduler sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitCode {
    /// Scheduler-level code: 0–256, or a 0x4000xxxx interruption code (D1).
    pub code: u32,
    /// The underlying value when it differs from `code` (e.g. 300, 0x40000222).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<i64>,
    /// Who set the code.
    pub origin: Origin,
}

impl ExitCode {
    /// A code returned by the job's command: values ≥ 256 become 255 with the
    /// raw value kept (8.5.1 note 2); negative values (never produced by a
    /// process) are treated the same way.
    pub fn from_command(raw: i64) -> ExitCode {
        if (0..=255).contains(&raw) {
            ExitCode { code: raw as u32, raw: None, origin: Origin::Command }
        } else {
            ExitCode { code: OVERFLOW, raw: Some(raw), origin: Origin::Command }
        }
    }

    /// A code set by the scheduler (201–256).
    pub fn scheduler(code: u32) -> ExitCode {
        ExitCode { code, raw: None, origin: Origin::Scheduler }
    }

    /// Operator force-termination: code 256, raw 0x40000222 (spec 02 §3.11 rule 2).
    pub fn forced() -> ExitCode {
        ExitCode { code: FORCED, raw: Some(INT_FORCED as i64), origin: Origin::Scheduler }
    }

    /// An interruption code of job execution control, stored literally (D1).
    pub fn interruption(code: u32) -> ExitCode {
        ExitCode { code, raw: None, origin: Origin::ExecutionControl }
    }

    /// Whether `code` is one of the 0x4000xxxx interruption codes.
    pub fn is_interruption(&self) -> bool {
        self.code >= 0x4000_0000
    }

    /// The history form: decimal, or `0x%08X` for interruption codes, with
    /// `.(<raw>)` when a command's code was ≥ 256 (e.g. `255.(300)`).
    pub fn display(&self) -> String {
        if self.is_interruption() {
            format!("0x{:08X}", self.code)
        } else if let (Some(raw), Origin::Command) = (self.raw, self.origin) {
            format!("{}.({raw})", self.code)
        } else {
            self.code.to_string()
        }
    }
}

/// A bare exit code as history shows it (decision D1): decimal, or
/// `0x%08X` for the interruption codes `0x4000xxxx` (e.g. the cut-off's
/// `0x40000322`).
pub fn code_text(code: u32) -> String {
    if code >= 0x4000_0000 { format!("0x{code:08X}") } else { code.to_string() }
}

/// Classification of a finished job (spec 01 §3.1 rule 2, spec 02 §3.11, D1–D3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndClass {
    /// Ended normally.
    Completed,
    /// Ended with a code in 1..=normal_limit.
    PseudoNormal,
    /// Ended abnormally.
    Abended,
    /// Forcibly terminated.
    Cancelled,
    /// Ended by the scheduler because another OR predecessor ended normally (248).
    Bypassed,
}

/// The per-job settings that take part in classification.
#[derive(Clone, Copy, Debug, Default)]
pub struct Judgement {
    /// Upper limit of normal exit codes (0..=200).
    pub normal_limit: u32,
    /// "Normal regardless of exit code".
    pub ignore_exit_code: bool,
}

/// Classify an exit code under a job's settings.
///
/// Order: forced termination → Cancelled; 248 from the scheduler → Bypassed;
/// any other scheduler or execution-control code → Abended (D2, D3);
/// then, for command codes only: ignore flag → Completed; 0 → Completed;
/// `1..=normal_limit` → PseudoNormal; otherwise Abended.
pub fn classify(exit: ExitCode, j: Judgement) -> EndClass {
    match exit.origin {
        Origin::ExecutionControl => {
            if exit.code == INT_FORCED {
                EndClass::Cancelled
            } else {
                EndClass::Abended
            }
        }
        Origin::Scheduler => match exit.code {
            FORCED => EndClass::Cancelled,
            OR_WAIT_OTHER_NORMAL => EndClass::Bypassed,
            0 => EndClass::Completed,
            _ => EndClass::Abended,
        },
        Origin::Command => {
            if j.ignore_exit_code || exit.code == 0 {
                EndClass::Completed
            } else if exit.code <= j.normal_limit {
                EndClass::PseudoNormal
            } else {
                EndClass::Abended
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(limit: u32, ignore: bool) -> Judgement {
        Judgement { normal_limit: limit, ignore_exit_code: ignore }
    }

    // MODEL-001 XC-004
    #[test]
    fn model_001_xc_004_zero_is_completed() {
        assert_eq!(classify(ExitCode::from_command(0), j(0, false)), EndClass::Completed);
        assert_eq!(classify(ExitCode::from_command(0), j(7, false)), EndClass::Completed);
    }

    // MODEL-002
    #[test]
    fn model_002_one_with_limit_zero_abends() {
        assert_eq!(classify(ExitCode::from_command(1), j(0, false)), EndClass::Abended);
    }

    // MODEL-003 XC-003
    #[test]
    fn model_003_xc_003_pseudo_normal_range() {
        let l4 = j(4, false);
        assert_eq!(classify(ExitCode::from_command(3), l4), EndClass::PseudoNormal);
        assert_eq!(classify(ExitCode::from_command(4), l4), EndClass::PseudoNormal);
        assert_eq!(classify(ExitCode::from_command(5), l4), EndClass::Abended);
        assert_eq!(classify(ExitCode::from_command(10), l4), EndClass::Abended);
        assert_eq!(classify(ExitCode::from_command(3), j(2, false)), EndClass::Abended);
    }

    // MODEL-004
    #[test]
    fn model_004_ignore_exit_code_is_completed() {
        assert_eq!(classify(ExitCode::from_command(3), j(4, true)), EndClass::Completed);
        assert_eq!(classify(ExitCode::from_command(77), j(4, true)), EndClass::Completed);
    }

    // MODEL-005 XC-001 XC-255 XC-255
    #[test]
    fn model_005_xc_001_code_over_255_is_255_with_raw() {
        let e = ExitCode::from_command(300);
        assert_eq!(e.code, 255);
        assert_eq!(e.raw, Some(300));
        assert_eq!(e.display(), "255.(300)");
        assert_eq!(classify(e, j(0, false)), EndClass::Abended);
    }

    // XC-002 XC-255
    #[test]
    fn xc_002_255_has_no_raw() {
        let e = ExitCode::from_command(255);
        assert_eq!((e.code, e.raw), (255, None));
        assert_eq!(e.display(), "255");
    }

    // XC-013 MODEL-006 MODEL-256
    #[test]
    fn xc_013_model_006_forced_is_256_raw_0x40000222_cancelled() {
        let e = ExitCode::forced();
        assert_eq!(e.code, 256);
        assert_eq!(e.raw, Some(0x4000_0222));
        assert_eq!(classify(e, j(0, true)), EndClass::Cancelled);
    }

    // XC-012 MODEL-007
    #[test]
    fn xc_012_model_007_cutoff_is_literal_and_abended() {
        let e = ExitCode::interruption(INT_CUTOFF);
        assert_eq!(e.code, 1_073_742_626);
        assert_eq!(e.display(), "0x40000322");
        assert_eq!(classify(e, j(0, true)), EndClass::Abended);
        assert_eq!(classify(ExitCode::interruption(INT_FORCED), j(0, false)), EndClass::Cancelled);
    }

    // XC-014
    #[test]
    fn xc_014_interruption_codes_in_decimal() {
        assert_eq!(0x4000_0132_u32, 1_073_742_130);
        assert_eq!(0x4000_0913_u32, 1_073_744_147);
        assert!(INTERRUPTION_CODES.iter().all(|c| ExitCode::interruption(*c).is_interruption()));
    }

    // XC-015
    #[test]
    fn xc_015_ignore_flag_never_overrides_scheduler_codes() {
        for code in [START_FAILED, CHDIR_FAILED, ENVIRONMENT_STOPPED, VARIABLE_IO, OR_WAIT_OTHER_ABNORMAL] {
            assert_eq!(classify(ExitCode::scheduler(code), j(200, true)), EndClass::Abended, "{code}");
        }
        assert_eq!(classify(ExitCode::scheduler(OR_WAIT_OTHER_NORMAL), j(0, true)), EndClass::Bypassed);
    }
}
