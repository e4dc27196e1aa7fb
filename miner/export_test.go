package miner

import "time"

// SetRefresh sets how long a candidate is searched before it is rebuilt,
// so a test can tell a search abandoned on a tip change from one
// refreshed on the timer.
func SetRefresh(m *Miner, d time.Duration) { m.refresh = d }

// PacedSlots is the process's hashing slots for paced threads.
var PacedSlots = pacedSlots
