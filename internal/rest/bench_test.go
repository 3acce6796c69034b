package rest

func cleanupBench() {}
