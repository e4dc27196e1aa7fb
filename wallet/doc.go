// Package wallet holds chaind's keys: generating them, signing and
// verifying transactions, and keeping keys on disk.
//
// # Keys and addresses
//
// A Key is an ed25519 key made from a 32-byte secret seed (RFC 8032). Its
// 32-byte public key is what a transaction names as its sender (Tx.From);
// its account is identified by an address, the first 20 bytes of SHA-256 of
// the public key (chain.AddressOf). People see an address as bech32m with a
// per-network prefix (chain.FormatAddress and chain.ParseAddress), so a
// mistyped address fails its checksum and an address of one network is
// refused by another.
//
// Key.SignTx signs tx.SigningMessage(networkID): a domain tag, the network
// id (the genesis hash) and every field of the transaction but the
// signature. A transaction is thus bound to one network, and any change to
// it breaks the signature.
//
// # Verification: ZIP-215
//
// Ed25519 implementations disagree on edge cases: non-canonical encodings
// of points, small-order keys, and whether the check is multiplied by the
// cofactor. A node that verifies one transaction with one rule set and a
// block with another could accept what its peers reject and split from
// the network. This package therefore verifies only with
// github.com/hdevalence/ed25519consensus, which implements ZIP-215 (as used
// by Zcash): the scalar s must be canonical, point encodings need not be,
// and the equation is checked with the cofactor, [8]([s]B - R - [k]A) = 0.
// Under these rules single and batch verification accept exactly the same
// signatures, which is what lets VerifyTxs batch a block's signatures and
// still name the first bad one. The standard library's verifier is never
// used (it is cofactorless and would disagree on crafted signatures).
// A consequence of ZIP-215: a public key of small order signs anything,
// so coins sent to such a key's address can be spent by anyone; no key
// made by this package is one.
//
// VerifyTxs spreads a list over runtime.GOMAXPROCS(0) goroutines, each
// batch-verifying a contiguous chunk; a failed chunk is re-checked one
// signature at a time. Coinbase transactions (zero sender) carry no
// signature and are skipped.
//
// # Keystore
//
// A Keystore is a directory (mode 0700) of key files, one per address,
// named by the address in lower-case hex plus ".json" and written with mode
// 0600 through a temporary file and a rename, so a crash never leaves half
// a file. A key file (version 1) is JSON:
//
//	{
//	  "version": 1,
//	  "address": "<20 bytes hex>",
//	  "public_key": "<32 bytes hex>",
//	  "crypto": {
//	    "kdf": "scrypt",
//	    "kdf_params": {"n": 32768, "r": 8, "p": 1, "salt": "<32 bytes hex>"},
//	    "cipher": "xchacha20-poly1305",
//	    "nonce": "<24 bytes hex>",
//	    "ciphertext": "<48 bytes hex: the 32-byte seed and a 16-byte tag>"
//	  }
//	}
//
// The passphrase is stretched with scrypt into a 32-byte key, which
// encrypts the seed with XChaCha20-Poly1305 under a random nonce, with the
// 20 address bytes as associated data. Salt and nonce are fresh for every
// file. Any change to the salt, the KDF parameters, the nonce, the
// ciphertext or the address makes decryption fail (ErrWrongPassphrase:
// a wrong passphrase and a damaged file cannot be told apart); a public
// key that does not hash to the address, a malformed field, or a KDF cost
// beyond the bounds of ScryptParams.Validate is refused before any work
// (ErrBadKeyFile). The address and public key are in clear so a keystore
// can be listed without a passphrase.
//
// # Development keys
//
// SaveDevKey and LoadDevKey keep one key unencrypted, for devnet nodes that
// mine and send without a passphrase. The file says so in its "type" and
// "warning" fields; it is still written with mode 0600.
//
// # Passphrases
//
// ReadPassphrase takes a passphrase from a file, an environment variable or
// the terminal (without echo), in that order, for the command line and for
// unattended nodes.
package wallet
