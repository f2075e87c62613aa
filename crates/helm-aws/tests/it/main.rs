//! helm-aws against the AWS emulator (one emulator for this test binary).

mod sts;
