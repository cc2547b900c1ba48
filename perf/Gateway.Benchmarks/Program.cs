using BenchmarkDotNet.Running;

// dotnet run -c Release --project perf/Gateway.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Gateway.Benchmarks.GenerationBenchmarks).Assembly).Run(args);
