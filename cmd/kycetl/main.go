// Command kycetl loads ARGOS ID check KYC data into a warehouse; see
// `kycetl --help` and the README.
package main

import (
	"os"

	"github.com/kycetl/kycetl/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
