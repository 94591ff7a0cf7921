-- bench/register.lua: wrk script for registrations (bench/auth_store). Every
-- request registers a new account: thread number, a per-thread counter and
-- PC_RUN (a tag of the run, so runs on one store never collide) make the
-- name. Environment: PC_RUN.
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
end

function init(args)
  n = 0
  run = os.getenv("PC_RUN") or "r"
end

function request()
  n = n + 1
  return wrk.format("POST", "/api/register", { ["Content-Type"] = "application/json" },
    string.format('{"username":"%s.t%d.%d","password":"bench-password-1"}', run, tid, n))
end
