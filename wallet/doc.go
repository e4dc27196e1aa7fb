// Package wallet holds chaind's keys: generating them, signing
// transactions, and keeping keys on disk.
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
// # Verification
//
// Verifying a signature is a consensus rule, so it lives in package
// consensus (consensus.VerifyTx, consensus.VerifyTxs, by the ZIP-215
// rules); this package only makes keys and signs, and nothing in the rules
// depends on it. Every key it makes is of full order.
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
