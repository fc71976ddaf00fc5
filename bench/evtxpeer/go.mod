module github.com/shieldwall/shieldwall/bench/evtxpeer

go 1.26.8

require github.com/0xrawsec/golang-evtx v1.2.9

require github.com/0xrawsec/golang-utils v1.3.0 // indirect
