//! SM2-signed documents (issue 18, GB/T 32918 / GM/T 0003 with SM3, GB/T 32905): the format of a
//! signed PDF and its check, with no I/O, so that the server, the offline `choucha report verify`
//! and a third party all read the same rules (docs/SIGNATURES.md).
//!
//! A signed file is the PDF as rendered (`body`, ending in `%%EOF`) followed by one trailer line
//! that PDF readers ignore as a comment after the end of the file:
//!
//! ```text
//! body ‖ "\n%CHOUCHA-SM2-SIGNATURE v1 key=<64 hex> sig=<128 hex>\n"
//! ```
//!
//! `sig` is the SM2 signature (r ‖ s, 32 bytes each) of `body` with the default distinguishing
//! identifier `1234567812345678` (e = SM3(Z_A ‖ body)); `key` is the key's fingerprint, the SM3
//! hash of its public key as an uncompressed SEC1 point (65 bytes, `04 ‖ x ‖ y`).

use sha2::{Digest as _, Sha256};
use sm2::dsa::signature::{Signer as _, Verifier as _};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};
use sm3::Sm3;

/// The default distinguishing identifier of GB/T 35276-2017 (the user ID signed into Z_A).
pub const DEFAULT_DIST_ID: &str = "1234567812345678";

/// What starts the trailer line (after the newline that ends the body).
pub const TRAILER_PREFIX: &[u8] = b"\n%CHOUCHA-SM2-SIGNATURE v1 ";

/// Why a file does not verify, in words a person reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignedPdfError {
    #[error("文件末尾没有本系统的签名记录：不是本系统签发的文件，或签名记录已被删去或改动")]
    NotSigned,
    #[error("签名记录格式不正确：签名记录已被改动")]
    Malformed,
    #[error("签名所用的密钥（指纹 {0}）不在已知密钥中：无法确认签发机构")]
    UnknownKey(String),
    #[error("SM2 签名与文件内容不符：文件在签发后已被改动")]
    BadSignature,
    #[error("公钥无效")]
    BadPublicKey,
}

/// An institution's key pair.
#[derive(Clone)]
pub struct KeyPair {
    key: SigningKey,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair").field("key_id", &self.key_id()).finish_non_exhaustive()
    }
}

impl KeyPair {
    /// A new key pair from the random source `fill` (asked again in the rare case 32 bytes are no
    /// valid private key).
    pub fn generate(mut fill: impl FnMut() -> [u8; 32]) -> Self {
        loop {
            if let Ok(key) = SigningKey::from_slice(DEFAULT_DIST_ID, &fill()) {
                return Self { key };
            }
        }
    }

    /// The key pair of a private key in hex (a key file's content).
    ///
    /// # Errors
    /// `None` when the text is no valid SM2 private key.
    pub fn from_secret_hex(text: &str) -> Option<Self> {
        let bytes = hex::decode(text.trim()).ok()?;
        SigningKey::from_slice(DEFAULT_DIST_ID, &bytes).ok().map(|key| Self { key })
    }

    /// The private key in hex (what a key file holds). Secret.
    pub fn secret_hex(&self) -> String {
        hex::encode(self.key.to_bytes())
    }

    /// The public key as an uncompressed SEC1 point, hex.
    pub fn public_hex(&self) -> String {
        hex::encode(self.key.verifying_key().to_sec1_bytes())
    }

    /// The key's fingerprint (SM3 of the public key).
    pub fn key_id(&self) -> String {
        hex::encode(Sm3::digest(self.key.verifying_key().to_sec1_bytes()))
    }

    /// The SM2 signature of `body` (r ‖ s), hex.
    pub fn sign(&self, body: &[u8]) -> String {
        let sig: Signature = self.key.sign(body);
        hex::encode(sig.to_bytes())
    }
}

/// The fingerprint of a public key given in hex (SEC1).
///
/// # Errors
/// [`SignedPdfError::BadPublicKey`] when it is no point of the curve.
pub fn key_id_of(public_hex: &str) -> Result<String, SignedPdfError> {
    let bytes = hex::decode(public_hex.trim()).map_err(|_| SignedPdfError::BadPublicKey)?;
    VerifyingKey::from_sec1_bytes(DEFAULT_DIST_ID, &bytes).map_err(|_| SignedPdfError::BadPublicKey)?;
    Ok(hex::encode(Sm3::digest(&bytes)))
}

/// The signed file: `body` with the trailer line.
pub fn attach(body: &[u8], key_id: &str, signature_hex: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 220);
    out.extend_from_slice(body);
    out.extend_from_slice(TRAILER_PREFIX);
    out.extend_from_slice(format!("key={key_id} sig={signature_hex}\n").as_bytes());
    out
}

/// A signed file taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed<'a> {
    /// The bytes signed.
    pub body: &'a [u8],
    pub key_id: String,
    pub signature: String,
}

/// Takes a signed file apart: the body, and the key and signature of its trailer line.
///
/// # Errors
/// [`SignedPdfError::NotSigned`] without a trailer, [`SignedPdfError::Malformed`] when the line is
/// not exactly the format above.
pub fn split(file: &[u8]) -> Result<Signed<'_>, SignedPdfError> {
    let at = file.windows(TRAILER_PREFIX.len()).rposition(|w| w == TRAILER_PREFIX).ok_or(SignedPdfError::NotSigned)?;
    let line = std::str::from_utf8(&file[at + TRAILER_PREFIX.len()..]).map_err(|_| SignedPdfError::Malformed)?;
    let line = line.strip_suffix('\n').ok_or(SignedPdfError::Malformed)?;
    let (key, sig) = line.split_once(' ').ok_or(SignedPdfError::Malformed)?;
    let key_id = key.strip_prefix("key=").ok_or(SignedPdfError::Malformed)?;
    let signature = sig.strip_prefix("sig=").ok_or(SignedPdfError::Malformed)?;
    let lower_hex =
        |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !lower_hex(key_id, 64) || !lower_hex(signature, 128) {
        return Err(SignedPdfError::Malformed);
    }
    Ok(Signed { body: &file[..at], key_id: key_id.to_string(), signature: signature.to_string() })
}

/// Checks the SM2 signature `signature_hex` of `body` against the public key `public_hex`.
///
/// # Errors
/// [`SignedPdfError::BadPublicKey`], or [`SignedPdfError::BadSignature`] when it does not verify.
pub fn verify(body: &[u8], public_hex: &str, signature_hex: &str) -> Result<(), SignedPdfError> {
    let public = hex::decode(public_hex.trim()).map_err(|_| SignedPdfError::BadPublicKey)?;
    let key = VerifyingKey::from_sec1_bytes(DEFAULT_DIST_ID, &public).map_err(|_| SignedPdfError::BadPublicKey)?;
    let sig = hex::decode(signature_hex).map_err(|_| SignedPdfError::BadSignature)?;
    let sig = Signature::from_slice(&sig).map_err(|_| SignedPdfError::BadSignature)?;
    key.verify(body, &sig).map_err(|_| SignedPdfError::BadSignature)
}

/// Checks a signed file against the public key the lookup `key_of` gives for its fingerprint;
/// returns the fingerprint.
///
/// # Errors
/// See [`split`] and [`verify`]; [`SignedPdfError::UnknownKey`] when the lookup knows no such key.
pub fn check(file: &[u8], key_of: impl FnOnce(&str) -> Option<String>) -> Result<String, SignedPdfError> {
    let signed = split(file)?;
    let public = key_of(&signed.key_id).ok_or_else(|| SignedPdfError::UnknownKey(signed.key_id.clone()))?;
    if key_id_of(&public)? != signed.key_id {
        return Err(SignedPdfError::UnknownKey(signed.key_id));
    }
    verify(signed.body, &public, &signed.signature)?;
    Ok(signed.key_id)
}

/// SM3 of `bytes`, hex.
pub fn sm3_hex(bytes: &[u8]) -> String {
    hex::encode(Sm3::digest(bytes))
}

/// SHA-256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(seed: u8) -> KeyPair {
        KeyPair::generate(|| [seed; 32])
    }

    #[test]
    fn a_signed_file_verifies_and_one_changed_byte_does_not() {
        let k = pair(7);
        let body = b"%PDF-1.7\n...\n%%EOF\n".to_vec();
        let file = attach(&body, &k.key_id(), &k.sign(&body));
        let public = k.public_hex();
        assert_eq!(check(&file, |_| Some(public.clone())), Ok(k.key_id()));
        for i in 0..file.len() {
            let mut bad = file.clone();
            bad[i] ^= 0x01;
            assert!(check(&bad, |_| Some(public.clone())).is_err(), "byte {i} changed and still verified");
        }
    }

    #[test]
    fn an_unknown_key_or_a_missing_trailer_is_refused() {
        let k = pair(7);
        let body = b"%PDF-1.7\n%%EOF\n";
        let file = attach(body, &k.key_id(), &k.sign(body));
        assert_eq!(check(&file, |_| None), Err(SignedPdfError::UnknownKey(k.key_id())));
        // Another key presented under this fingerprint is not this key.
        let other = pair(9).public_hex();
        assert_eq!(check(&file, |_| Some(other.clone())), Err(SignedPdfError::UnknownKey(k.key_id())));
        assert_eq!(check(body, |_| Some(k.public_hex())), Err(SignedPdfError::NotSigned));
    }

    #[test]
    fn a_key_survives_its_file_and_the_fingerprint_is_sm3_of_the_point() {
        let k = pair(3);
        let again = KeyPair::from_secret_hex(&k.secret_hex()).expect("key");
        assert_eq!(again.key_id(), k.key_id());
        assert_eq!(key_id_of(&k.public_hex()), Ok(k.key_id()));
        assert_eq!(k.public_hex().len(), 130);
        assert!(KeyPair::from_secret_hex("not hex").is_none());
    }
}
