-- wrk script of the serving benchmark: POSTs the JSON body read from the
-- file named by the first script argument (wrk ... -s post.lua URL -- FILE)
-- and, when done, prints one machine-readable line:
--   BENCH requests=N duration_us=N rps=N p50_us=N p99_us=N errors=N non2xx=N
-- (latencies in microseconds from wrk's own histogram).

function init(args)
   local f = assert(io.open(args[1], "rb"))
   wrk.body = f:read("*a")
   f:close()
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests)
   local e = summary.errors
   local rps = summary.requests / (summary.duration / 1e6)
   io.write(string.format("BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d errors=%d non2xx=%d\n",
      summary.requests, summary.duration, rps, latency:percentile(50), latency:percentile(99),
      e.connect + e.read + e.write + e.timeout, e.status))
end
