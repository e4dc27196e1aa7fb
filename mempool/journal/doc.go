// Package journal keeps a mempool on disk, so nothing the node accepted is
// lost to a restart or a crash: as Bitcoin Core's mempool.dat, plus a log.
//
// Two files in one directory:
//
//   - mempool.dat, a snapshot: the magic "CHAINDMP", a format version, the
//     network's genesis hash, a transaction count, the transactions (each
//     a 4-byte length and its canonical encoding), then a SHA-256 of
//     everything before. It is written to a temporary file, synced and
//     renamed over the old one, so a crash leaves the old or the new
//     snapshot, never a mix. It is bounded by MaxTxs and MaxFileSize.
//   - mempool.log, an append-only log of every transaction admitted since
//     the snapshot: a header ("CHAINDML", version, genesis hash), then
//     records of a 4-byte length, a CRC-32C of the transaction and its
//     encoding. Append writes a record before the pool's admission is
//     acknowledged to the client (the pool's listeners run before Add
//     returns), so a killed process keeps it: the write is in the
//     operating system's hands. Sync (called periodically by the node)
//     makes it survive a machine crash too.
//
// When the log grows past MaxLogRecords, and at Close, the pool's current
// transactions become the new snapshot and the log starts empty.
//
// Load reads the snapshot, then the log, and offers every transaction to
// the pool again, so each one is re-validated (signature, nonce, balance)
// against the chain as it is now: mined or no longer payable transactions
// are dropped and counted. A record cut short at the end of the log is the
// normal trace of a crash during a write (its transaction was never
// acknowledged) and is dropped silently. Anything else that is wrong (a
// bad checksum, a wrong magic, version or network, a record in the middle
// that does not check) is reported in Stats and the log, the file is set
// aside under a ".corrupt-<time>" name for inspection, and the node starts
// with what could be read: never a panic.
package journal
