-- bench/refresh.lua: wrk script for refresh-token rotations (bench/auth_store).
-- Each thread (one connection each, -t equal to -c: answers come back in
-- order) starts from a refresh token of its own, listed one a line in
-- PC_REFRESH_TOKENS, and sends each answer's new token next: every request
-- is one rotation. Environment: PC_REFRESH_TOKENS.
local tokens = {}
for line in io.lines(os.getenv("PC_REFRESH_TOKENS")) do
  tokens[#tokens + 1] = line
end
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
end

function init(args)
  token = tokens[tid]
end

function request()
  return wrk.format("POST", "/api/token/refresh", { ["Content-Type"] = "application/json" },
    string.format('{"refresh_token":"%s"}', token))
end

function response(status, headers, body)
  local t = body:match('"refresh_token"%s*:%s*"([^"]+)"')
  if t then
    token = t
  end
end
