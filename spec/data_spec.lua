-- Labels (onehot, onehotbatch, onecold), gathering batches, the
-- DataLoader and ncycle, and safetensors files.
local cnn = require "cnn"
local core = cnn.core
local helpers = require "helpers"

local err = helpers.error_message

local digits = cnn.range(0, 9)

describe("onehot and onehotbatch", function()
  it("onehot(5, 0:9) has its 1 in row 6", function()
    local e = cnn.onehot(5, digits)
    assert.same({10}, e:size())
    assert.equal("Float32", e:dtype())
    assert.same({0, 0, 0, 0, 0, 1, 0, 0, 0, 0}, e:totable())
  end)

  it("onehotbatch takes an Int32 tensor or a table, and a table or tensor label set", function()
    local expected = {{0, 1, 0}, {1, 0, 0}, {0, 0, 0}, {0, 0, 1}}
    local labels = core.tensor({1, 0, 3}, "int32")
    assert.same(expected, cnn.onehotbatch(labels, {0, 1, 2, 3}):totable())
    assert.same(expected, cnn.onehotbatch({1, 0, 3}, cnn.range(0, 3)):totable())
    assert.same(expected, cnn.onehotbatch({1.0, 0, 3}, core.tensor({0, 1, 2, 3}, "int32")):totable())
    assert.same({4, 3}, cnn.onehotbatch(labels, {0, 1, 2, 3}):size())
  end)

  it("a label set in another order decides the rows; the first duplicate wins", function()
    assert.same({{0, 0}, {1, 0}, {0, 1}}, cnn.onehotbatch({7, 3}, {9, 7, 3}):totable())
    assert.same({{1}, {0}}, cnn.onehotbatch({5}, {5, 5}):totable())
  end)

  it("works on labels of any value through Lua tables", function()
    local y = cnn.onehotbatch({"dog", "cat", "dog"}, {"cat", "dog"})
    assert.same({{0, 1, 0}, {1, 0, 1}}, y:totable())
    assert.same({{1}, {0}}, cnn.onehotbatch({0.5}, {0.5, 1.5}):totable())
  end)

  it("names a label that is not in the set", function()
    assert.equal("onehotbatch: label 12 is not in the label set {0, 1, ..., 9}",
      err(cnn.onehotbatch, core.tensor({3, 12, 4}, "int32"), digits))
    assert.equal("onehotbatch: label -1 is not in the label set {2, 4, 8}",
      err(cnn.onehotbatch, {2, -1}, {2, 4, 8}))
    assert.equal("onehot: label 12 is not in the label set {0, 1, ..., 9}",
      err(cnn.onehot, 12, digits))
    assert.equal("onehotbatch: label cow is not in the label set {cat, dog}",
      err(cnn.onehotbatch, {"cow"}, {"cat", "dog"}))
    assert.equal("onehotbatch: the label set is empty", err(cnn.onehotbatch, {1}, {}))
  end)

  it("keeps the shape of multi-dimensional labels after the classes", function()
    local labels = core.tensor({{0, 1, 2}, {2, 1, 0}}, "int32") -- 2×3
    local y = cnn.onehotbatch(labels, {0, 1, 2})
    assert.same({3, 2, 3}, y:size())
    assert.same({0, 0, 1}, y:select(3, 1):select(2, 2):totable())
  end)

  it("encodes 60000 labels (a parallel C loop)", function()
    local labels = core.zeros(60000, "int32")
    labels[60000] = 9
    local y = cnn.onehotbatch(labels, digits)
    assert.equal(60000, core.sum(y))
    assert.equal(59999, core.sum(y:select(1, 1)))
    assert.equal(1, y[{10, 60000}])
  end)
end)

describe("onecold", function()
  it("gives 1-based rows of the first maximum, or labels", function()
    local y = core.tensor({{0.1, 0.7}, {0.6, 0.2}, {0.3, 0.7}}) -- 3 classes × 2
    assert.same({2, 1}, cnn.onecold(y):totable())
    assert.equal("Int32", cnn.onecold(y):dtype())
    assert.same({20, 10}, cnn.onecold(y, {10, 20, 30}):totable())
    assert.same({"b", "a"}, cnn.onecold(y, {"a", "b", "c"}))
  end)

  it("of a vector is a single value", function()
    assert.equal(6, cnn.onecold(cnn.onehot(5, digits)))
    assert.equal(5, cnn.onecold(cnn.onehot(5, digits), digits))
    assert.equal("c", cnn.onecold(core.tensor({0, 1, 2}), {"a", "b", "c"}))
  end)

  it("round-trips onehotbatch for every digit", function()
    local labels = core.tensor({5, 0, 4, 1, 9, 2, 1, 3, 1, 4, 3, 5, 3, 6, 1, 7, 2, 8, 6, 9}, "int32")
    assert.is_true(cnn.onecold(cnn.onehotbatch(labels, digits), digits) == labels)
    assert.same(
      {6, 1, 5, 2, 10, 3, 2, 4, 2, 5, 4, 6, 4, 7, 2, 8, 3, 9, 7, 10},
      cnn.onecold(cnn.onehotbatch(labels, digits)):totable())
  end)

  it("checks the size of the label set against the classes", function()
    assert.equal("onecold: the label set has 3 entries, y has 10 classes (10×4)",
      err(cnn.onecold, core.zeros(10, 4), {1, 2, 3}))
    assert.matches("Float32 tensor expected, got Int32", err(cnn.onecold, core.zeros(3, "int32")))
  end)
end)

describe("core.gather", function()
  local x = core.tensor({{1, 2, 3, 4}, {10, 20, 30, 40}}) -- 2×4: 4 observations

  it("copies the selected slices of the last dimension, 1-based", function()
    local idx = core.tensor({4, 1, 4}, "int32")
    assert.same({{4, 1, 4}, {40, 10, 40}}, core.gather(x, idx):totable())
    local out = core.zeros(2, 2)
    assert.equal(out, core.gather(x, idx, out, 2, 2))
    assert.same({{1, 4}, {10, 40}}, out:totable())
  end)

  it("gathers from a strided view and from vectors", function()
    local t = core.transpose(x) -- 4×2, a copy; take a strided view of it
    local view = t:slice(1, 2, 3)  -- 2×2, not contiguous
    assert.same({{20, 2}, {30, 3}}, core.gather(view, core.tensor({2, 1}, "int32")):totable())
    local v = core.tensor({5, 6, 7}, "int32")
    assert.same({7, 5}, core.gather(v, core.tensor({3, 1}, "int32")):totable())
  end)

  it("rejects indices out of range and outputs of the wrong shape", function()
    assert.equal("gather: index 5 out of range 1..4",
      err(core.gather, x, core.tensor({1, 5}, "int32")))
    assert.equal("gather: index 0 out of range 1..4",
      err(core.gather, x, core.tensor({0}, "int32")))
    assert.equal("gather: output 3×2 does not fit 2 slices of 2×4 (same type, contiguous)",
      err(core.gather, x, core.tensor({1, 2}, "int32"), core.zeros(3, 2)))
    assert.equal("gather: the output must not share storage with the source",
      err(core.gather, x, core.tensor({1, 2}, "int32"), x:narrow(2, 1, 2)))
    assert.matches("count out of range", err(core.gather, x, core.tensor({1, 2}, "int32"), nil, 2, 2))
  end)
end)

describe("core.permutation", function()
  it("is 1..n without a seed and a reproducible shuffle with one", function()
    assert.same({1, 2, 3, 4, 5}, core.permutation(5):totable())
    local a, b = core.permutation(1000, 42), core.permutation(1000, 42)
    assert.is_true(a == b)
    assert.is_false(a == core.permutation(1000, 43))
    local seen = {}
    for _, v in ipairs(a:totable()) do seen[v] = (seen[v] or 0) + 1 end
    for i = 1, 1000 do assert.equal(1, seen[i]) end
  end)
end)

describe("DataLoader", function()
  -- observation i of x is the column {i, 0.5 i}; y holds i as an Int32 label
  local n = 10
  local function data(count)
    local rows = {{}, {}}
    local labels = {}
    for i = 1, count do rows[1][i], rows[2][i], labels[i] = i, i / 2, i end
    return core.tensor(rows), core.tensor(labels, "int32")
  end
  local x, y = data(n)

  local function pass(loader)
    local batches = {}
    for xb, yb in loader do
      assert.same(yb:totable(), xb:select(1, 1):int():totable())
      batches[#batches + 1] = yb:totable()
    end
    return batches
  end

  it("counts batches: ceil with partial (the default), floor without", function()
    assert.equal(4, #cnn.DataLoader(x, y, {batchsize = 3}))
    assert.equal(3, #cnn.DataLoader(x, y, {batchsize = 3, partial = false}))
    assert.equal(10, #cnn.DataLoader(x, y))
    assert.equal(1, #cnn.DataLoader(x, y, {batchsize = 128}))
    -- a batchsize above the observations is lowered to them, as in Flux
    assert.equal(1, #cnn.DataLoader(x, y, {batchsize = 128, partial = false}))
  end)

  it("keeps the order without shuffle; the last batch is short unless dropped", function()
    assert.same({{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {10}}, pass(cnn.DataLoader(x, y, {batchsize = 3})))
    assert.same({{1, 2, 3}, {4, 5, 6}, {7, 8, 9}},
      pass(cnn.DataLoader(x, y, {batchsize = 3, partial = false})))
    local sizes = {}
    for xb in cnn.DataLoader(x, {batchsize = 4}) do sizes[#sizes + 1] = table.concat(xb:size(), "×") end
    assert.same({"2×4", "2×4", "2×2"}, sizes)
  end)

  it("shuffles every observation once per pass, differently each pass", function()
    local big_x, big_y = data(200)
    local loader = cnn.DataLoader(big_x, big_y, {batchsize = 64, shuffle = true})
    local orders = {}
    for p = 1, 2 do
      local order, seen = {}, {}
      for _, batch in ipairs(pass(loader)) do
        for _, v in ipairs(batch) do
          order[#order + 1] = v
          seen[v] = (seen[v] or 0) + 1
        end
      end
      for i = 1, 200 do assert.equal(1, seen[i]) end
      assert.equal(200, #order)
      orders[p] = table.concat(order, ",")
    end
    assert.are_not.equal(orders[1], orders[2])
  end)

  it("reproduces its shuffles from an rng seed, and from cnn.seed", function()
    local function first_pass(opts)
      return table.concat(pass(cnn.DataLoader(x, y, opts))[1], ",")
    end
    local a = first_pass({batchsize = 10, shuffle = true, rng = 7})
    assert.equal(a, first_pass({batchsize = 10, shuffle = true, rng = 7}))
    assert.are_not.equal(a, first_pass({batchsize = 10, shuffle = true, rng = 8}))
    cnn.seed(3)
    local b = first_pass({batchsize = 10, shuffle = true})
    cnn.seed(3)
    assert.equal(b, first_pass({batchsize = 10, shuffle = true}))
  end)

  it("restarts a pass after a break", function()
    local loader = cnn.DataLoader(x, y, {batchsize = 4})
    for _ in loader do break end -- luacheck: ignore 512 (leaving early is what is tested)
    assert.same({{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10}}, pass(loader))
  end)

  it("reuses its batch buffers, unless copy = true", function()
    local seen = {}
    for xb in cnn.DataLoader(x, {batchsize = 3}) do seen[#seen + 1] = xb end
    assert.equal(seen[1], seen[2])
    assert.is_true(rawequal(seen[1], seen[3]))
    assert.is_false(rawequal(seen[1], seen[4]))
    local copies = {}
    for xb in cnn.DataLoader(x, {batchsize = 3, copy = true}) do copies[#copies + 1] = xb end
    assert.is_false(rawequal(copies[1], copies[2]))
    assert.same({{1, 2, 3}, {0.5, 1, 1.5}}, copies[1]:totable())
  end)

  it("accepts {x, y}, y = nil, several targets, and iter()", function()
    assert.same({{1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}}, pass(cnn.DataLoader({x, y}, {batchsize = 5})))
    local labels2 = core.mul(y:float(), 10)
    for xb, ys in cnn.DataLoader(x, {y, labels2}, {batchsize = 5}) do
      assert.same({2, 5}, xb:size())
      assert.same(core.mul(ys[1]:float(), 10):totable(), ys[2]:totable())
    end
    local count = 0
    for xb, extra in cnn.DataLoader(x, nil, {batchsize = 2}):iter() do
      count = count + xb:size(2)
      assert.is_nil(extra)
    end
    assert.equal(10, count)
  end)

  it("batches images along the 4th dimension", function()
    local imgs = core.rand(28, 28, 1, 7)
    local batches = {}
    for xb in cnn.DataLoader(imgs, {batchsize = 4}) do batches[#batches + 1] = xb:clone() end
    assert.same({28, 28, 1, 4}, batches[1]:size())
    assert.same({28, 28, 1, 3}, batches[2]:size())
    assert.is_true(batches[2]:narrow(4, 3, 1) == imgs:narrow(4, 7, 1))
  end)

  it("rejects data that disagree and bad options", function()
    assert.equal("DataLoader: data 2 has 9 observations (9), data 1 (2×10) has 10",
      err(cnn.DataLoader, x, core.zeros(9)))
    assert.equal("DataLoader: unknown option 'batch_size'",
      err(cnn.DataLoader, x, y, {batch_size = 4}))
    assert.equal("DataLoader: batchsize must be a positive integer, got 0",
      err(cnn.DataLoader, x, y, {batchsize = 0}))
    assert.equal("DataLoader: data must be a tensor or a table of tensors", err(cnn.DataLoader, 5))
    assert.equal("DataLoader: data 1 is a 0-dim tensor", err(cnn.DataLoader, core.zeros()))
  end)
end)

describe("DataLoader printing", function()
  it("shows the data's sizes, the options given and the batches of a pass", function()
    local x, y = cnn.zeros(28, 28, 1, 1000), cnn.zeros(10, 1000)
    assert.equal("DataLoader({28×28×1×1000, 10×1000}, batchsize=128, shuffle=true) with 8 batches",
      tostring(cnn.DataLoader(x, y, {batchsize = 128, shuffle = true})))
    assert.equal("DataLoader(10×1000, batchsize=1000, partial=false, rng=3) with 1 batch",
      tostring(cnn.DataLoader(y, {batchsize = 1000, partial = false, rng = 3})))
    assert.equal("DataLoader({10×1000, {10×1000, 28×28×1×1000}}, batchsize=1) with 1000 batches",
      tostring(cnn.DataLoader(y, {y, x})))
    assert.equal("ncycle(DataLoader(10×1000, batchsize=500) with 2 batches, 3)",
      tostring(cnn.ncycle(cnn.DataLoader(y, {batchsize = 500}), 3)))
  end)
end)

describe("ncycle", function()
  it("runs n passes, reshuffling each, with # = n × #loader", function()
    local x = cnn.range(1, 6)
    local loader = cnn.DataLoader(x, {batchsize = 4, shuffle = true, rng = 1})
    local cycle = cnn.ncycle(loader, 3)
    assert.equal(6, #cycle)
    local sizes, sum = {}, 0
    for xb in cycle do
      sizes[#sizes + 1] = xb:size(1)
      sum = sum + core.sum(xb)
    end
    assert.same({4, 2, 4, 2, 4, 2}, sizes)
    assert.equal(3 * 21, sum)
    local again = 0
    for _ in cycle do again = again + 1 end
    assert.equal(6, again)
    assert.equal(0, #cnn.ncycle(loader, 0))
  end)

  it("cycles over a Lua array of batches", function()
    local seen = {}
    for a, b in cnn.ncycle({{1, "a"}, {2, "b"}}, 2) do seen[#seen + 1] = a .. b end
    assert.same({"1a", "2b", "1a", "2b"}, seen)
  end)
end)

describe("safetensors", function()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  teardown(function() os.execute("rm -rf " .. dir) end)

  local function read(path)
    local f = assert(io.open(path, "rb"))
    local s = f:read("a")
    f:close()
    return s
  end

  local function write(name, bytes)
    return helpers.write_bytes(dir .. "/" .. name, bytes)
  end

  it("round-trips Float32 and Int32 tensors with metadata", function()
    local w = core.rand(3, 2, 4, 5) -- W×H×C×N
    local labels = core.tensor({3, -1, 7}, "int32")
    local scalar = core.tensor(2.5)
    local path = dir .. "/model.safetensors"
    core.save_safetensors(path, {["conv.weight"] = w, labels = labels, s = scalar}, {format = "pt"})
    local t, meta = core.load_safetensors(path)
    assert.is_true(t["conv.weight"] == w)
    assert.same({3, 2, 4, 5}, t["conv.weight"]:size())
    assert.equal("Int32", t.labels:dtype())
    assert.same({3, -1, 7}, t.labels:totable())
    assert.equal(0, t.s:ndims())
    assert.equal(2.5, t.s:item())
    assert.same({format = "pt"}, meta)
  end)

  it("stores sizes reversed (row-major shape), bytes unchanged, data 8-byte aligned", function()
    local path = dir .. "/layout.safetensors"
    core.save_safetensors(path, {x = core.tensor({{1, 2, 3}, {4, 5, 6}})}) -- 2×3
    local s = read(path)
    local n = string.unpack("<I8", s)
    local header = s:sub(9, 8 + n)
    assert.equal('{"x":{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]}}', header:match("^(.-)%s*$"))
    assert.equal(0, (8 + n) % 8)
    -- column-major 2×3 {{1,2,3},{4,5,6}} is stored 1, 4, 2, 5, 3, 6
    local values = {string.unpack("<ffffff", s, 9 + n)}
    values[7] = nil -- the position after them
    assert.same({1, 4, 2, 5, 3, 6}, values)
  end)

  it("saves views through a contiguous copy", function()
    local m = core.tensor({{1, 2, 3}, {4, 5, 6}})
    local path = dir .. "/view.safetensors"
    core.save_safetensors(path, {row = m:select(1, 2), cols = m:narrow(2, 2, 2)})
    local t = core.load_safetensors(path)
    assert.same({4, 5, 6}, t.row:totable())
    assert.same({{2, 3}, {5, 6}}, t.cols:totable())
  end)

  it("replaces a file atomically, leaving no temporary file", function()
    local path = dir .. "/atomic.safetensors"
    core.save_safetensors(path, {a = core.ones(2)})
    core.save_safetensors(path, {b = core.zeros(3)})
    local t = core.load_safetensors(path)
    assert.is_nil(t.a)
    assert.same({0, 0, 0}, t.b:totable())
    local listing = io.popen("ls " .. dir):read("a")
    assert.is_nil(listing:find("tmp", 1, true))
    assert.matches("No such file or directory",
      err(core.save_safetensors, dir .. "/missing/x.safetensors", {a = core.ones(1)}))
  end)

  it("checks what it saves", function()
    local p = dir .. "/bad.safetensors"
    assert.equal("save_safetensors: 'w' is not a tensor", err(core.save_safetensors, p, {w = 1}))
    assert.equal("save_safetensors: tensor names must be strings",
      err(core.save_safetensors, p, {core.ones(1)}))
    assert.equal("save_safetensors: the name __metadata__ is reserved",
      err(core.save_safetensors, p, {__metadata__ = core.ones(1)}))
    assert.equal("save_safetensors: metadata keys and values must be strings",
      err(core.save_safetensors, p, {}, {n = 1}))
  end)

  describe("rejects corrupt files", function()
    local function file(header, data)
      return string.pack("<I8", #header) .. header .. (data or "")
    end
    local function expect(name, content, message)
      local path = write(name, content)
      assert.equal("load_safetensors: " .. path .. ": " .. message, err(core.load_safetensors, path))
    end
    local four = string.rep("\0", 16)

    it("short files and impossible header lengths", function()
      expect("short", "abc", "too short for a safetensors file (3 bytes)")
      expect("long", string.pack("<I8", 1000) .. "{}", "header length 1000 does not fit the 10 bytes of the file")
      expect("huge", string.pack("<I8", -1) .. "{}",
        "header length 18446744073709551615 does not fit the 10 bytes of the file")
    end)

    it("malformed JSON, with the byte position", function()
      expect("colon", file('{"a" {}}'), "bad safetensors header: expected ':' at byte 5")
      expect("open", file('{"a":{"dtype":"F32"'), "bad safetensors header: expected '}' at byte 19")
      expect("string", file('{"a'), "bad safetensors header: unterminated string at byte 2")
      expect("trailing", file('{} x'), "bad safetensors header: unexpected text after the header at byte 3")
      expect("negative", file('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}'),
        "bad safetensors header: expected a non-negative integer at byte 29")
      expect("float", file('{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}'),
        "bad safetensors header: expected an integer at byte 30")
      expect("escape", file('{"a\\q":{}}'), "bad safetensors header: bad escape at byte 4")
      expect("dims", file('{"a":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}}'),
        "bad safetensors header: too many dimensions at byte 45")
    end)

    it("entries that do not fit their data", function()
      expect("dtype", file('{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}', four),
        "tensor 'a': dtype F64 is not supported (F32 and I32 are)")
      expect("outside", file('{"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}', four),
        "tensor 'a': data_offsets [0, 32] outside the 16 bytes of data")
      expect("reversed", file('{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}', four),
        "tensor 'a': data_offsets [8, 4] outside the 16 bytes of data")
      expect("size", file('{"a":{"dtype":"I32","shape":[2,3],"data_offsets":[0,16]}}', four),
        "tensor 'a': shape needs 24 bytes, data_offsets give 16")
      expect("missing", file('{"a":{"dtype":"F32","shape":[1]}}', four),
        "tensor 'a': needs dtype, shape and data_offsets")
      expect("unknown", file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}', four),
        "tensor 'a': unknown field 'x'")
      expect("twice", file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
        .. '"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', four), "tensor 'a': appears twice")
    end)

    it("reads JSON escapes in names and metadata", function()
      local path = write("escapes", file(
        '{"__metadata__":{"k":"v\\u00e9\\ud83d\\ude00"},"a\\"b\\n":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}',
        string.pack("<f", 1.25)))
      local t, meta = core.load_safetensors(path)
      assert.equal(1.25, t['a"b\n']:item())
      assert.equal("v\u{e9}\u{1F600}", meta.k)
    end)
  end)
end)
