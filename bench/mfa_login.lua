-- bench/mfa_login.lua: wrk script for two-factor logins (bench/auth). Each
-- thread (one connection each: answers come back in order) walks its share
-- of the users in USERS_FILE (written by bench/mfa_users.py lua): POST
-- /api/login, then POST /api/login/mfa with the mfa_token and the user's
-- next code. A completed login is two requests. Environment: PC_MFA_USERS
-- (the table), PC_MFA_PASSWORD, PC_MFA_THREADS (wrk's -t, equal to -c).
local users = dofile(os.getenv("PC_MFA_USERS"))
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
end

function init(args)
  idx = tid
  which = 1
  token = nil
  password = os.getenv("PC_MFA_PASSWORD")
end

function request()
  local u = users[((idx - 1) % #users) + 1]
  if token then
    return wrk.format("POST", "/api/login/mfa", { ["Content-Type"] = "application/json" },
      string.format('{"mfa_token":"%s","code":"%s"}', token, u.c[which]))
  end
  return wrk.format("POST", "/api/login", { ["Content-Type"] = "application/json" },
    string.format('{"username":"%s","password":"%s"}', u.u, password))
end

function response(status, headers, body)
  if token then
    token = nil
    which = which + 1
    if which > 2 then
      which = 1
      idx = idx + tonumber(os.getenv("PC_MFA_THREADS"))
    end
  else
    token = body:match('"mfa_token"%s*:%s*"([^"]+)"')
  end
end
