module github.com/bulwark-go/bulwark/bench

go 1.26.0

toolchain go1.26.11

require github.com/bulwark-go/bulwark v0.0.0

require (
	github.com/aymerick/douceur v0.2.0 // indirect
	github.com/gorilla/css v1.0.1 // indirect
	github.com/microcosm-cc/bluemonday v1.0.27 // indirect
	github.com/unrolled/secure v1.18.0
	golang.org/x/net v0.62.0 // indirect
)

replace github.com/bulwark-go/bulwark => ../
