using System.Diagnostics;
using Gateway.Runtime.Json;

// Times JsonObjectBody.TryGetObject on each file; with a base copy compiled in (run.sh), the base and the working tree
// alternate in one process, so a busy or throttled machine slows both alike. Best of 12 rounds of 10,000 calls each.
string[] files = args.Length > 0 ? args : ["../load/data/products-20k.json"];
foreach (string file in files)
{
    byte[] body = File.ReadAllBytes(file);
    bool verdict = JsonObjectBody.TryGetObject(body, out _, out _);
    double head = double.MaxValue;
    double @base = double.MaxValue;
    long sink = 0;
    const int Calls = 10_000;
    for (int round = 0; round < 12; round++)
    {
#if HAS_BASE
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < Calls; i++)
        {
            sink += BaseJson.JsonObjectBody.TryGetObject(body, out _, out int length) ? length : 0;
        }

        @base = Math.Min(@base, clock.Elapsed.TotalMicroseconds / Calls);
#endif
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < Calls; i++)
        {
            sink += JsonObjectBody.TryGetObject(body, out _, out int length) ? length : 0;
        }

        head = Math.Min(head, watch.Elapsed.TotalMicroseconds / Calls);
    }

    string against = @base == double.MaxValue ? "" : $", base {@base:F2} us, head/base {head / @base:F3}";
    Console.WriteLine($"{Path.GetFileName(file)} ({body.Length} B, {(verdict ? "valid" : "rejected")}): head {head:F2} us ({body.Length / head / 1000:F2} GB/s){against} [{sink % 10}]");
}
