-- Tensor bytes live outside Lua's heap; they are accounted to the collector
-- so that loops dropping big tensors stay bounded without collectgarbage().
-- Each case runs in a child process and reads its peak resident size.

local function build_dir()
  return (package.cpath:match("([^;]*)/%?%.so") or "./build")
end

local function file_exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

-- lua5.4 loading cnn/core.so, and the cnnlua host when it has been built.
local function interpreters()
  local list = {{name = "lua5.4", command = "lua5.4",
                 prelude = ("package.cpath = %q; "):format(package.cpath)}}
  local host = build_dir() .. "/cnnlua"
  if file_exists(host) then
    list[#list + 1] = {name = "cnnlua", command = host, prelude = ""}
  end
  return list
end

local peak_probe = [[
for line in io.lines("/proc/self/status") do
  local kb = line:match("^VmHWM:%s+(%d+) kB")
  if kb then io.write(kb) end
end]]

-- Runs 'body' (Lua source using 'core') in a child; returns its VmHWM in MiB.
local function peak_mib(interp, body)
  local script = interp.prelude .. "local core = require 'cnn.core'; " .. body .. "\n" .. peak_probe
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(script)
  f:close()
  -- under AddressSanitizer, freed blocks wait in a quarantine that would
  -- count as resident; keep it small so the accounting is what is measured
  local asan = ("ASAN_OPTIONS='%s:quarantine_size_mb=8' "):format(os.getenv("ASAN_OPTIONS") or "")
  local p = io.popen(asan .. interp.command .. " " .. path .. " 2>&1")
  local out = p:read("a")
  p:close()
  os.remove(path)
  local kb = tonumber(out)
  assert(kb, "child failed: " .. out)
  return kb / 1024
end

describe("tensor memory", function()
  for _, interp in ipairs(interpreters()) do
    it("stays bounded over 10,000 dropped 1 MiB tensors (" .. interp.name .. ")", function()
      local mib = peak_mib(interp, "for i = 1, 10000 do local t = core.zeros(512, 512) end")
      assert.is_true(mib < 300, ("peak %.0f MiB"):format(mib))
    end)

    it("stays bounded when views and copies are dropped too (" .. interp.name .. ")", function()
      local mib = peak_mib(interp, [[
        for i = 1, 1000 do
          local t = core.rand(512, 512)
          local c = t:reshape(-1):clone()
          local v = t[3]
        end]])
      assert.is_true(mib < 300, ("peak %.0f MiB"):format(mib))
    end)
  end

  it("keeps live tensors alive through collections", function()
    local keep = {}
    for i = 1, 100 do
      keep[i] = require("cnn.core").fill(i, 256, 256)
    end
    for i = 1, 100, 33 do
      assert.equal(i, keep[i][{256, 256}])
    end
  end)

  -- Runs the host on `code` with CNNLUA_CACHE_MB set to `mb`; its output.
  local function host_with_cache(mb, code)
    local p = io.popen(("CNNLUA_CACHE_MB=%s %s/cnnlua -e %q 2>&1"):format(mb, build_dir(), code))
    local out = p:read("a")
    p:close()
    return out
  end

  local count_fresh = [[
    local before = cnn.core.stats().system_allocations
    for i = 1, 50 do local t = cnn.zeros(512, 512); t = nil; collectgarbage() end
    io.write(cnn.core.stats().system_allocations - before)]]

  it("takes a freed block again for the next tensor of its size, up to CNNLUA_CACHE_MB", function()
    assert.are.equal("1", host_with_cache("", count_fresh))
    assert.are.equal("50", host_with_cache("0", count_fresh))
  end)

  it("refuses a CNNLUA_CACHE_MB that is not a number of megabytes", function()
    assert.matches('CNNLUA_CACHE_MB is "lots": give a whole number of megabytes',
                   host_with_cache("lots", "print(cnn.zeros(2))"), 1, true)
  end)
end)
