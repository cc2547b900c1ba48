using System.Globalization;
using System.Text;

namespace Gateway.Runtime.Telemetry;

/// <summary>
/// The process and runtime figures a scrape carries besides the gateway's own instruments, read when Prometheus scrapes
/// (nothing is counted per request): CPU time, resident memory, open and allowed file descriptors, start time (the
/// names Prometheus client libraries use for every process), and the .NET runtime's allocated bytes, collections,
/// GC pause time, heap size and thread pool. With the request counts they give CPU time and bytes allocated per request
/// (<c>rate(process_cpu_seconds_total[1m]) / rate(gateway_server_request_duration_seconds_count[1m])</c>).
/// </summary>
internal static class ProcessMetrics
{
    private static readonly double s_startTime = ReadStartTime();

    public static void Render(StringBuilder text)
    {
        Metric(text, "process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds", Number(Environment.CpuUsage.TotalTime.TotalSeconds));
        Metric(text, "process_resident_memory_bytes", "gauge", "Resident memory size, in bytes", Integer(Environment.WorkingSet));
        if (OpenFileDescriptors() is { } open)
        {
            Metric(text, "process_open_fds", "gauge", "Open file descriptors", Integer(open));
        }

        if (MaxFileDescriptors() is { } max)
        {
            Metric(text, "process_max_fds", "gauge", "The most file descriptors the process may open", Integer(max));
        }

        Metric(text, "process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds", Number(s_startTime));
        Metric(text, "dotnet_gc_heap_total_allocated_bytes_total", "counter", "Bytes allocated on the managed heap since the process started", Integer(GC.GetTotalAllocatedBytes(precise: false)));
        text.Append("# HELP dotnet_gc_collections_total Garbage collections since the process started, by the generation collected\n# TYPE dotnet_gc_collections_total counter\n");
        for (int generation = 0; generation <= GC.MaxGeneration; generation++)
        {
            // A collection of generation n also collects the younger ones: each is counted once, at the oldest it reached.
            long only = GC.CollectionCount(generation) - (generation < GC.MaxGeneration ? GC.CollectionCount(generation + 1) : 0);
            text.Append("dotnet_gc_collections_total{gc_heap_generation=\"gen").Append(generation.ToString(CultureInfo.InvariantCulture)).Append("\"} ").Append(Integer(only)).Append('\n');
        }

        Metric(text, "dotnet_gc_pause_time_seconds_total", "counter", "Time the garbage collector paused the process, in seconds", Number(GC.GetTotalPauseDuration().TotalSeconds));
        Metric(text, "dotnet_gc_heap_size_bytes", "gauge", "Managed heap size after the last collection, in bytes", Integer(GC.GetGCMemoryInfo().HeapSizeBytes));
        Metric(text, "dotnet_thread_pool_thread_count", "gauge", "Thread pool threads", Integer(ThreadPool.ThreadCount));
        Metric(text, "dotnet_thread_pool_queue_length", "gauge", "Work items queued to the thread pool and not started", Integer(ThreadPool.PendingWorkItemCount));
    }

    private static void Metric(StringBuilder text, string name, string type, string help, string value) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n')
            .Append(name).Append(' ').Append(value).Append('\n');

    /// <summary>Entries of /proc/self/fd (Linux), the directory's own handle not counted; null elsewhere.</summary>
    internal static long? OpenFileDescriptors()
    {
        try
        {
            return Directory.Exists("/proc/self/fd") ? Directory.EnumerateFileSystemEntries("/proc/self/fd").LongCount() - 1 : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The soft limit of "Max open files" in /proc/self/limits (Linux); null elsewhere or when unlimited.</summary>
    private static long? MaxFileDescriptors()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    string[] fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return fields.Length > 0 && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out long soft) ? soft : null;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }

    private static double ReadStartTime()
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return (process.StartTime.ToUniversalTime() - DateTime.UnixEpoch).TotalSeconds;
    }

    private static string Integer(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
