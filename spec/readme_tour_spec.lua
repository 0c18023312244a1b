-- The script of README.md's tour runs as written: on 256 random "images"
-- instead of MNIST, quietly, with the model file in a temporary place.
local cnn = require "cnn"

local function tour_script()
  local f = assert(io.open("README.md"))
  local text = f:read("a")
  f:close()
  local tour = text:match("\n## A tour\n(.-)\n## ")
  assert(tour, "README.md has no tour")
  local block = tour:match("\n(    local cnn = require \"cnn\"\n.-)\n%S")
  assert(block, "the tour has no script")
  return (block:gsub("\n    ", "\n"):gsub("^    ", ""))
end

local function fake_mnist(n)
  return {
    images = function(split) return cnn.rand(28, 28, split == "test" and n // 2 or n) end,
    labels = function(split)
      return cnn.core.argmax(cnn.rand(10, split == "test" and n // 2 or n), 1):reshape(-1) - 1
    end,
  }
end

describe("README tour", function()
  it("runs as written", function()
    local path = os.tmpname()
    local printed = {}
    local calls = {}
    local quiet = setmetatable({
      datasets = {MNIST = fake_mnist(256)},
      savemodel = function(_, m) calls.save = true; return cnn.savemodel(path, m) end,
      loadmodel = function(_, m) calls.load = true; return cnn.loadmodel(path, m) end,
      train = function(loss, ps, data, opt, opts)
        opts = opts or {}
        opts.progress = false
        calls.train = (calls.train or 0) + 1
        return cnn.train(loss, ps, data, opt, opts)
      end,
      profile = function(f, ...)
        local report = cnn.profile_report(f, ...)
        calls.profile = report.primitive_executions
      end,
      show = function(name, v) printed[#printed + 1] = name .. " = " .. table.concat(v, ", ") end,
    }, {__index = cnn})
    local env = setmetatable({
      require = function(name) return name == "cnn" and quiet or require(name) end,
      print = function(...)
        local parts = table.pack(...)
        for i = 1, parts.n do parts[i] = tostring(parts[i]) end
        printed[#printed + 1] = table.concat(parts, "\t")
      end,
    }, {__index = _G})
    local chunk = assert(load(tour_script(), "=README tour", "t", env))
    chunk()
    os.remove(path)
    local out = table.concat(printed, "\n")
    assert.truthy(out:find("Total: 8 arrays, 16_938 parameters", 1, true))
    assert.truthy(out:find("flatten%s+288×1"))
    assert.truthy(out:find("gs[ps[1]]:size() = 3, 3, 1, 16", 1, true))
    assert.same({save = true, load = true, train = 2}, {save = calls.save, load = calls.load, train = calls.train})
    assert.is_true(calls.profile > 0)
  end)
end)
