using BenchmarkDotNet.Running;

// Pick benchmarks interactively, or e.g. `-- --filter '*'` for all of them.
BenchmarkSwitcher.FromAssembly(typeof(Federation.Benchmarks.HotPaths).Assembly).Run(args);
