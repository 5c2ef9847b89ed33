//! Headless Chromium: a page as a user would see it, as a PNG.

use std::path::Path;
use std::process::Command;

/// A quiet headless Chromium: no sandbox (root in CI), no GPU, nothing fetched from
/// the internet behind the test's back.
pub const HEADLESS: [&str; 7] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
];

/// Renders `url` into `png` (1400x1800) with a profile of its own in `profile`; panics
/// with Chromium's output when it wrote nothing.
pub fn screenshot(url: &str, png: &Path, profile: &Path) {
    let output = Command::new(chromium())
        .args(HEADLESS)
        .args([
            "--hide-scrollbars",
            "--window-size=1400,1800",
            // Time for a live page's first fetches and drawing.
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(url)
        .output()
        .unwrap();
    assert!(
        png.is_file(),
        "chromium wrote no screenshot of {url}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Pixels that are not (near) white.
pub fn inked_pixels(png_path: &Path) -> (usize, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png_path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).unwrap();
    let channels = info.color_type.samples();
    let pixels = buffer[..info.buffer_size()].chunks(channels);
    let total = pixels.len();
    let inked = pixels.filter(|p| p.iter().take(3).any(|&c| c < 200)).count();
    (inked, total)
}

pub fn chromium() -> String {
    for candidate in ["chromium", "chromium-browser", "google-chrome"] {
        if Command::new(candidate)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return candidate.to_owned();
        }
    }
    panic!("no Chromium on PATH: install it (Debian: apt-get install chromium); .ci/run does");
}
