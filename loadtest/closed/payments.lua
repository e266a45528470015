-- wrk script of the closed-loop benchmark (loadtest/closed/run.ts): POST /v1/payments of 1 fen on
-- random cards from LT_CARDS_FILE, unique paymentIds (LT_RUN_ID-thread-seq), bearer LT_API_KEY.
-- Counts approved, declined and other answers per thread; done() prints one JSON line.
local cards = {}
for line in io.lines(os.getenv("LT_CARDS_FILE")) do
  if #line > 0 then cards[#cards + 1] = line end
end
local apiKey = os.getenv("LT_API_KEY")
local runId = os.getenv("LT_RUN_ID")
local threads = {}
local threadSeq = 0

function setup(thread)
  threadSeq = threadSeq + 1
  thread:set("tid", threadSeq)
  table.insert(threads, thread)
end

function init(args)
  seq = 0
  approved = 0
  declined = 0
  other = 0
  headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. apiKey }
  math.randomseed(os.time() + tid * 7919)
end

function request()
  seq = seq + 1
  local body = string.format('{"paymentId":"%s-%d-%d","cardNo":"%s","amount":1}', runId, tid, seq, cards[math.random(#cards)])
  return wrk.format("POST", "/v1/payments", headers, body)
end

function response(status, headers, body)
  if status == 200 and string.find(body, '"approved":true', 1, true) then
    approved = approved + 1
  elseif status == 200 then
    declined = declined + 1
    if declined <= 3 then io.write("LTDECLINE " .. body .. "\n") end
  else
    other = other + 1
    if other <= 3 then io.write("LTOTHER " .. status .. " " .. body .. "\n") end
  end
end

function done(summary, latency, requests)
  local a, d, o = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("approved")
    d = d + t:get("declined")
    o = o + t:get("other")
  end
  io.write(string.format('LTJSON {"approved":%d,"declined":%d,"other":%d,"requests":%d,"durationUs":%d,"errors":%d,"p50Us":%d,"p99Us":%d,"p999Us":%d}\n',
    a, d, o, summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
