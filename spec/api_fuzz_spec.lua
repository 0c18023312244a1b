-- The Lua API under random calls (spec/api_fuzzer.lua): no crash, no hang,
-- and every error names the function called. A short run here; longer
-- ones with scripts/fuzz-api. The host is $CNNLUA, else ./build/cnnlua.
local cnn = require "cnn"
local fuzzer = require "api_fuzzer"

local HOST = os.getenv("CNNLUA") or "./build/cnnlua"
local SEED, CALLS = 20240, 3000

local function failures_text(report, seed)
  local lines = {}
  for i, f in ipairs(report.failures) do
    if i > 5 then break end
    lines[i] = fuzzer.describe_failure(f, seed)
  end
  return table.concat(lines, "\n")
end

describe("the API fuzzer", function()
  it("finds every public function and the methods of the objects they make", function()
    local s = fuzzer.surface(cnn)
    local exprs = {}
    for _, f in ipairs(s.functions) do exprs[f.expr] = true end
    for _, expr in ipairs{"cnn.ADAM", "cnn.update", "cnn.Dense", "cnn.showimage", "cnn.summary",
                          "cnn.confusion", "cnn.profile_text", "cnn.core.zeros", "cnn.ops.dropout",
                          "cnn.datasets.MNIST.images"} do
      assert(exprs[expr], expr .. " is not fuzzed")
    end
    for name, v in pairs(cnn) do
      if type(v) == "function" then assert(exprs["cnn." .. name], "cnn." .. name .. " is not fuzzed") end
    end
    local ops = {}
    for i, r in ipairs(s.receivers) do
      ops[r.kind] = ops[r.kind] or {}
      for _, op in ipairs(s.operations[i]) do ops[r.kind][op] = true end
    end
    assert.is_true(ops.tensor.reshape and ops.tensor.__add and ops.tensor.__index and true)
    assert.is_true(ops.Dense.__call and ops.Dense.forward and ops.Dense.parameters and true)
    assert.is_true(ops.Chain.__call and ops.Chain.parameters and ops.Chain.__index and true)
    assert.is_true(ops.DataLoader.iter and ops.DataLoader.__call and ops.DataLoader.__len and true)
    assert.is_true(ops.ADAM.__tostring)
  end)

  it("starts from valid calls of the functions it has templates for", function()
    local expr_of = {}
    for _, f in ipairs(fuzzer.surface(cnn).functions) do
      if f.expr == "cnn." .. f.name or not expr_of[f.name] then expr_of[f.name] = f.expr end
    end
    local cases, names = {}, {}
    for name, template in pairs(fuzzer.templates) do
      assert(expr_of[name], name .. " is not a public function")
      local call = ("local r = %s(%s)"):format(expr_of[name], table.concat(template.args, ", "))
      cases[#cases + 1] = {steps = {{src = template.setup or ""}, {src = call, names = {name}}}}
      names[#cases] = name
    end
    local report = fuzzer.run{host = HOST, cases = cases}
    local failed = {}
    for _, f in ipairs(report.failures) do failed[#failed + 1] = names[f.index] .. ": " .. f.err end
    assert(#failed == 0, table.concat(failed, "\n"))
    assert.equal(#cases, report.returned)
  end)

  it("accepts errors that name the function and refuses the others", function()
    local names = {"ADAM"}
    assert.is_nil(fuzzer.judge("case:1: ADAM: beta must be a pair of numbers in [0, 1), got 9", names))
    assert.is_nil(fuzzer.judge("bad argument #1 to 'ADAM' (number expected, got nil)", names))
    assert.is_nil(fuzzer.judge("case:1: fuzz: user error", names))
    assert.equal("the message points into /x/lua/cnn/utils.lua",
      fuzzer.judge("/x/lua/cnn/utils.lua:53: attempt to index a nil value (local 't')", {"showimage"}))
    assert.equal("a raw Lua error: attempt to index",
      fuzzer.judge("case:1: attempt to index a nil value (local 't')", {"showimage"}))
    assert.equal("a raw Lua error: attempt to index",
      fuzzer.judge("case:1: showimage: attempt to index a nil value", {"showimage"}))
    assert.equal("a bad argument to Lua's format",
      fuzzer.judge("case:1: bad argument #1 to 'format' (number expected, got string)", names))
    assert.equal("the message does not start with confusion",
      fuzzer.judge("case:1: onehotbatch: label 12 is not in the label set {0, 1, ..., 9}", {"confusion"}))
    assert.equal("raised a table, not a message", fuzzer.judge({}, names))
  end)

  it("reports a crash, a hang and an allocation too large with the call that caused it", function()
    local cases = {
      {steps = {{src = "local r = cnn.ones(2) + 1", names = {"add"}}}},
      {steps = {{src = "os.execute('kill -ABRT ' .. io.open('/proc/self/stat'):read('n'))", names = {"x"}}}},
      {steps = {{src = "local r = cnn.zeros(3)", names = {"zeros"}}}},
      {steps = {{src = "while true do end", names = {"x"}}}},
      {steps = {{src = "local r = cnn.zeros(4096, 4096, 2)", names = {"zeros"}}}},
      {steps = {{src = "local r = cnn.ADAM(0/0)", names = {"ADAM"}}}},
    }
    local report = fuzzer.run{host = HOST, cases = cases, timeout = 4}
    assert.equal(#cases, report.calls)
    local by_index = {}
    for _, f in ipairs(report.failures) do by_index[f.index] = f end
    assert.is_nil(by_index[1])
    assert.equal("killed by signal 6 (a crash)", by_index[2].reason)
    assert.matches("kill %-ABRT", by_index[2].repro)
    assert.is_nil(by_index[3])
    assert.equal("killed after the time limit (a hang)", by_index[4].reason)
    assert.matches("while true do end", by_index[4].repro)
    assert.equal("allocated 128 MiB of tensors (at most 64)", by_index[5].reason)
    assert.is_nil(by_index[6])
    assert.equal(4, #report.failures + 1)
  end)

  it(("makes %d random calls of seed %d without a crash, a hang or an unnamed error"):format(CALLS, SEED), function()
    local report = fuzzer.run{host = HOST, count = CALLS, seed = SEED}
    assert.equal(CALLS, report.calls)
    assert(#report.failures == 0, failures_text(report, SEED))
    -- the calls reach past the first check: many succeed
    assert.is_true(report.returned > CALLS // 10)
    assert.is_true(report.raised > CALLS // 10)
  end)
end)
