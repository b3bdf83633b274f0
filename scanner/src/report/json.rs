//! JSON (an array of findings) and JSON lines (one finding per line). The
//! secret field is whatever the scan put there: redacted unless asked.

use std::io::Write;

use anyhow::Result;

use crate::finding::Finding;

pub fn render_array(findings: &[Finding], out: &mut dyn Write) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, findings)?;
    writeln!(out)?;
    Ok(())
}

pub fn render_lines(findings: &[Finding], out: &mut dyn Write) -> Result<()> {
    for f in findings {
        serde_json::to_writer(&mut *out, f)?;
        writeln!(out)?;
    }
    Ok(())
}
