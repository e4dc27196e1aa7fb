// Package node wires chaind's parts into one Node: the Pebble store in the
// data directory, the blockchain, the mempool, the miner, the node's
// wallet keys and the event hub, with Start and Stop.
//
// Data directory layout:
//
//	chain/        the Pebble store (blocks, state, indexes)
//	keystore/     encrypted wallet keys (one JSON file per key)
//	dev.key       devnet/regtest only: an UNENCRYPTED development key,
//	              made when the keystore is empty so a new node can mine
//	              and spend with no setup
//	api.token     the API token for spending and mining routes when the
//	              API listens beyond loopback (like bitcoind's cookie)
//
// The node is the one place that connects chain notifications to the
// mempool (connected blocks drop their transactions, disconnected blocks
// give theirs back) and to the event hub the API streams from.
package node
