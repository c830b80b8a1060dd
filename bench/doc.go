// Package bench compares bulwark's middleware with the peer libraries users would otherwise
// pick, in the same process and the same run. It is a separate module so that the peers never
// enter the library's go.mod. Run:
//
//	cd bench && go test -run '^$' -bench . -benchmem -count 6 | tee new.txt && benchstat new.txt
//
// Each benchmark has a "bare" case (the handler alone); a middleware's overhead is its time
// minus bare.
package bench
