// Package consensus holds the rules every chaind node applies: one Params
// value per network (genesis, block time, proof-of-work limit, retarget,
// reward and halving, size limits, clock tolerance), compact targets and
// work, the ASERT difficulty retarget, and block validation in two stages.
//
// CheckBlockSanity runs the context-free checks (encoding bounds, sizes,
// proof of work against the block's own target and the network limit, the
// data and merkle commitments, exactly one coinbase and it first). It is
// cheap and runs before a block is stored or relayed. CheckHeaderContext
// checks a header against its ancestors (height, expected target, median
// time, future limit), and CheckBlockBody the parts that need the parent's
// state (signatures, nonces, balances, coinbase amount) when connecting.
//
// Every violation is a *RuleError carrying a Code, so callers can tell the
// rules apart (tests, and the network when it scores the peer that sent the
// block) with errors.Is(err, ErrBadPoW) and friends.
package consensus
