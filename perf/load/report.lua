-- wrk reporter: one JSON line with the counts, the bytes read (headers included) and the latency percentiles
-- (microseconds) the harness needs.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nRESULT {"requests": %d, "duration_us": %d, "bytes": %d, "socket_errors": %d, "non2xx": %d, "p50": %d, "p99": %d, "p999": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
