package sigma

import "time"

var timeZero time.Time
