package main

import (
	"testing"

	"github.com/simpleuser/simpleuser/examples/internal/flowtest"
)

func TestFlow(t *testing.T) {
	svc, codes := flowtest.Service(t)
	flowtest.Run(t, routes(svc), codes)
}
