--- cnn.loadmodel on hand-made checkpoints that are wrong in one way each:
-- every one is refused with a message that names loadmodel, the file and
-- the reason, and the model it was to fill keeps its weights.
local cnn = require "cnn"
local helpers = require "helpers"

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))

-- Dense(2, 3) holds state.1, its 3×2 weight (stored with shape [2, 3]),
-- and state.2, its bias of 3.
local function entry(name, dtype, shape, first, last)
  return ('"%s":{"dtype":"%s","shape":[%s],"data_offsets":[%d,%d]}'):format(
    name, dtype, table.concat(shape, ","), first, last)
end
local W = entry("state.1", "F32", {2, 3}, 0, 24)
local B = entry("state.2", "F32", {3}, 24, 36)
local DATA = string.pack("<fffffffff", 1, 2, 3, 4, 5, 6, 7, 8, 9)

local function header(...) return "{" .. table.concat({...}, ",") .. "}" end

--- A file: the 8-byte header length (`length`, else the header's own),
-- the header and the data.
local function file(text, data, length)
  return string.pack("<I8", length or #text) .. text .. (data or DATA)
end

local count = 0
local function write(bytes)
  count = count + 1
  return helpers.write_bytes(("%s/m%d.safetensors"):format(dir, count), bytes)
end

local function model()
  local m = cnn.Dense(2, 3)
  return m, {m.weight:clone(), m.bias:clone()}
end

local function assert_untouched(m, before)
  assert.is_true(m.weight == before[1])
  assert.is_true(m.bias == before[2])
end

--- Loads `bytes` into a new Dense(2, 3) and expects the error
-- "loadmodel: <path>: <reason>" and the model as it was.
local function refused(bytes, reason, opts)
  local path = write(bytes)
  local m, before = model()
  assert.equal(("loadmodel: %s: %s"):format(path, reason),
    helpers.error_message(cnn.loadmodel, path, m, opts))
  assert_untouched(m, before)
end

-- The 0-based byte position just after the n-th occurrence of `text`.
local function after(s, text, n)
  local at = 0
  for _ = 1, n do at = s:find(text, at + 1, true) end
  return at - 1 + #text
end

describe("loadmodel refuses a malformed checkpoint", function()
  teardown(function() os.execute("rm -rf " .. dir) end)

  it("loads the well-formed file these cases are made from", function()
    local m = cnn.Dense(2, 3)
    cnn.loadmodel(write(file(header(W, B) .. " ")), m)
    assert.same({{1, 4}, {2, 5}, {3, 6}}, m.weight:totable())
    assert.same({7, 8, 9}, m.bias:totable())
  end)

  it("with a header length one byte short, which would shift every weight", function()
    local text = header(W, B) .. " "
    refused(file(text, DATA, #text - 1),
      "1 byte after the last tensor (the data section has 37 bytes, the tensors cover 36)")
  end)

  it("with a header length one byte long", function()
    local text = header(W, B)
    refused(file(text, DATA, #text + 1),
      ("bad safetensors header: unexpected text after the header at byte %d"):format(#text))
  end)

  it("with overlapping tensors", function()
    refused(file(header(W, entry("state.2", "F32", {3}, 20, 32)), DATA:sub(1, 32)),
      "tensor 'state.2' (data_offsets [20, 32]) overlaps tensor 'state.1' ([0, 24])")
  end)

  it("with a hole between tensors", function()
    refused(file(header(W, entry("state.2", "F32", {3}, 28, 40)), DATA .. "\0\0\0\0"),
      "bytes [24, 28) of the data belong to no tensor (a hole before tensor 'state.2')")
  end)

  it("with bytes after the last tensor", function()
    refused(file(header(W, B), DATA .. "\0\0\0\0"),
      "4 bytes after the last tensor (the data section has 40 bytes, the tensors cover 36)")
  end)

  it("with a name twice", function()
    refused(file(header(W, B, entry("state.1", "F32", {2, 3}, 36, 60)), DATA .. DATA:sub(1, 24)),
      "tensor 'state.1': appears twice")
  end)

  it("with __metadata__ twice", function()
    local text = header('"__metadata__":{"format":"a"}', W, '"__metadata__":{"format":"b"}', B)
    refused(file(text), ("bad safetensors header: __metadata__ appears twice at byte %d"):format(
      after(text, '"__metadata__":', 2)))
  end)

  it("with a name that holds \\u0000 or is not UTF-8", function()
    local text = header(W, entry("state.2\\u0000x", "F32", {3}, 24, 36))
    refused(file(text), ("bad safetensors header: \\u0000 (NUL) in a string at byte %d"):format(
      after(text, "state.2", 1)))
    text = header(W, entry("state.2\xff", "F32", {3}, 24, 36))
    refused(file(text), ("bad safetensors header: invalid UTF-8 in a string at byte %d"):format(
      after(text, "state.2", 1)))
  end)

  it("with a dtype it does not read, or one the model does not have", function()
    refused(file(header(entry("state.1", "F64", {2, 3}, 0, 48), entry("state.2", "F64", {3}, 48, 72)),
      DATA .. DATA .. DATA:sub(1, 36)), "tensor 'state.1': dtype F64 is not supported (F32 and I32 are)")
    local path = write(file(header(W, entry("state.2", "I32", {3}, 24, 36))))
    local m, before = model()
    assert.equal(("loadmodel: tensor 2 is Float32 in the model but Int32 in %s"):format(path),
      helpers.error_message(cnn.loadmodel, path, m))
    assert_untouched(m, before)
  end)

  it("with a shape that does not match its byte count", function()
    refused(file(header(entry("state.1", "F32", {2, 4}, 0, 24), B)),
      "tensor 'state.1': shape needs 32 bytes, data_offsets give 24")
  end)

  it("truncated", function()
    refused(file(header(W, B), DATA:sub(1, 30)),
      "tensor 'state.2': data_offsets [24, 36] outside the 30 bytes of data")
    local cut = string.pack("<I8", 80) .. header(W)
    refused(cut, ("header length 80 does not fit the %d bytes of the file"):format(#cut))
    refused("\1\0\0", "too short for a safetensors file (3 bytes)")
  end)

  it("with a huge header length", function()
    local text = header(W, B)
    local bytes = file(text, DATA, math.mininteger) -- 2^63 as an unsigned length
    refused(bytes, ("header length 9223372036854775808 does not fit the %d bytes of the file"):format(#bytes))
  end)

  describe("with NaN or infinite weights", function()
    local nan = DATA:sub(1, 28) .. string.pack("<f", 0 / 0) .. DATA:sub(33)
    local inf = string.pack("<f", -math.huge) .. DATA:sub(5)
    local hint = " (loadmodel(path, model, {finite = false}) accepts non-finite weights)"

    it("refuses them by default and with {finite = true}, naming the tensor", function()
      refused(file(header(W, B), nan), "tensor 'state.2' holds a non-finite value: NaN at element 2 of 3" .. hint)
      refused(file(header(W, B), inf), "tensor 'state.1' holds a non-finite value: -Inf at element 1 of 6" .. hint,
        {finite = true})
    end)

    it("loads them with {finite = false}", function()
      local m = cnn.Dense(2, 3)
      cnn.loadmodel(write(file(header(W, B), nan)), m, {finite = false})
      local bias = m.bias:totable()
      assert.is_true(bias[2] ~= bias[2])
      assert.same({7, 9}, {bias[1], bias[3]})
      cnn.loadmodel(write(file(header(W, B), inf)), m, {finite = false})
      assert.equal(-math.huge, m.weight:totable()[1][1])
    end)
  end)

  describe("with 80,000 entries, in well under 2 s", function()
    local N = 80000
    local entries = {}
    for i = 1, N do entries[i] = entry("t" .. i, "F32", {1}, 4 * (i - 1), 4 * i) end
    local zeros = string.rep("\0", 4 * N)

    local function timed_refusal(bytes, reason)
      local path = write(bytes)
      local m, before = model()
      local start = os.clock()
      local message = helpers.error_message(cnn.loadmodel, path, m)
      local seconds = os.clock() - start
      assert.equal(("loadmodel: %s%s"):format(path, reason), message)
      assert_untouched(m, before)
      assert.is_true(seconds < 2, ("%.2f s"):format(seconds))
    end

    it("all valid, too many for the model", function()
      timed_refusal(file("{" .. table.concat(entries, ",") .. "}", zeros), " holds 80000 tensors, the model has 2")
    end)

    it("the last one a repeated name", function()
      entries[N] = entry("t1", "F32", {1}, 4 * (N - 1), 4 * N)
      timed_refusal(file("{" .. table.concat(entries, ",") .. "}", zeros), ": tensor 't1': appears twice")
    end)
  end)
end)
