-- core.read_idx: IDX files written here with string.pack, good and
-- corrupt, raw and gzip.
local core = require "cnn.core"
local helpers = require "helpers"

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))

local function write(name, bytes)
  return helpers.write_bytes(dir .. "/" .. name, bytes)
end

--- An IDX image: magic, big-endian dimensions, then the data bytes.
local function idx(type_code, dims, data)
  local parts = {string.char(0, 0, type_code, #dims)}
  for _, d in ipairs(dims) do parts[#parts + 1] = string.pack(">I4", d) end
  parts[#parts + 1] = data
  return table.concat(parts)
end

local function bytes(first, last)
  local t = {}
  for v = first, last do t[#t + 1] = v end
  return string.char(table.unpack(t))
end

local function gzip(path)
  assert(os.execute(("gzip -nf %q"):format(path)))
  return path .. ".gz"
end

local err = helpers.error_message

local f32 = helpers.f32

teardown(function() os.execute("rm -rf " .. dir) end)

describe("read_idx", function()
  it("maps N×rows×cols bytes to a cols×rows×N tensor without transposing", function()
    -- two images of 2 rows × 3 columns: bytes 0..11
    local x = core.read_idx(write("two", idx(0x08, {2, 2, 3}, bytes(0, 11))))
    assert.same({3, 2, 2}, x:size())
    assert.equal("Float32", x:dtype())
    assert.is_true(x:is_contiguous())
    -- image n, row r, column c (1-based) is byte (n-1)*6 + (r-1)*3 + (c-1)
    assert.equal(5, x[{3, 2, 1}])
    assert.equal(7, x[{2, 1, 2}])
    assert.same({{6, 9}, {7, 10}, {8, 11}}, x[2]:totable())
  end)

  it("scales Float32 output; 1/255 gives the nearest Float32 of v/255", function()
    local x = core.read_idx(write("all", idx(0x08, {256}, bytes(0, 255))), {scale = 1 / 255})
    assert.same({256}, x:size())
    local values = x:totable()
    for v = 0, 255 do assert.equal(f32(v / 255), values[v + 1]) end
    assert.equal(1, values[256])
  end)

  it("reads labels as Int32 with dtype = \"int32\"", function()
    local y = core.read_idx(write("labels", idx(0x08, {5}, string.char(7, 2, 1, 0, 255))),
      {dtype = "int32"})
    assert.equal("Int32", y:dtype())
    assert.same({7, 2, 1, 0, 255}, y:totable())
    assert.equal("integer", math.type(y[1]))
  end)

  it("reads the wider element types, big-endian", function()
    local cases = {
      {0x09, string.char(0x80, 0x7F, 0xFF), {-128, 127, -1}},
      {0x0B, string.pack(">i2>i2>i2", -2, 256, 32767), {-2, 256, 32767}},
      {0x0C, string.pack(">i4>i4>i4", -1, 65536, 123456), {-1, 65536, 123456}},
      {0x0D, string.pack(">f>f>f", 1.5, -10, 0.25), {1.5, -10, 0.25}},
      {0x0E, string.pack(">d>d>d", 3.5, -1, 1e-3), {3.5, -1, f32(1e-3)}},
    }
    for _, c in ipairs(cases) do
      local x = core.read_idx(write("t" .. c[1], idx(c[1], {3}, c[2])))
      assert.same(c[3], x:totable())
    end
    assert.same({-128, 127, -1},
      core.read_idx(dir .. "/t9", {dtype = "int32"}):totable())
  end)

  it("reads gzip files (detected by their magic) like raw ones", function()
    local path = gzip(write("img", idx(0x08, {2, 2, 3}, bytes(100, 111))))
    local x = core.read_idx(path, {scale = 2})
    assert.same({3, 2, 2}, x:size())
    assert.same({{200, 206}, {202, 208}, {204, 210}}, x[1]:totable())
  end)

  it("keeps up to 8 dimensions, reversed", function()
    local x = core.read_idx(write("eight", idx(0x08, {1, 2, 1, 1, 1, 1, 3, 1}, bytes(1, 6))))
    assert.same({1, 3, 1, 1, 1, 1, 2, 1}, x:size())
  end)
end)

describe("read_idx on corrupt files", function()
  local function expect(name, content, message)
    local path = write(name, content)
    assert.equal("read_idx: " .. path .. ": " .. message, err(core.read_idx, path))
  end

  it("rejects a bad magic", function()
    expect("magic", "\1\0\8\1" .. string.pack(">I4", 1) .. "x",
      "bad magic 01 00 08 01 (an IDX file starts with 00 00 <type> <ndims>)")
    expect("png", "\137PNG\r\n\26\n",
      "bad magic 89 50 4e 47 (an IDX file starts with 00 00 <type> <ndims>)")
  end)

  it("rejects an unknown element type", function()
    expect("type", idx(0x0A, {1}, "x"),
      "unsupported element type 0x0a (IDX types are 0x08 ubyte, 0x09 sbyte, 0x0b int16, "
        .. "0x0c int32, 0x0d float32, 0x0e float64)")
  end)

  it("rejects 0 or more than 8 dimensions", function()
    expect("nodims", idx(0x08, {}, "x"), "0 dimensions (1 to 8 supported)")
    expect("ninedims", idx(0x08, {1, 1, 1, 1, 1, 1, 1, 1, 1}, "x"),
      "9 dimensions (1 to 8 supported)")
  end)

  it("rejects a dimension of 0 and dimensions whose product overflows", function()
    expect("zero", idx(0x08, {10, 0, 28}, ""), "dimension 2 is 0")
    expect("overflow", idx(0x08, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, ""),
      "dimensions too large (element count overflows)")
  end)

  it("rejects short files: empty, cut header, truncated data", function()
    expect("empty", "", "too short for an IDX header (0 bytes)")
    expect("cuthead", string.char(0, 0, 8, 3, 0, 0), "truncated header: 3 dimensions need 16 bytes, file has 6")
    expect("t10k-images-idx3-ubyte", idx(0x08, {10000, 28, 28}, string.rep("\0", 1000)),
      "truncated: header declares 7840000 bytes of data, file has 1000")
    expect("short16", idx(0x0B, {3}, "\0\0\0\0\0"),
      "truncated: header declares 6 bytes of data, file has 5")
  end)

  it("rejects extra data after the declared size", function()
    expect("long", idx(0x08, {2, 3}, bytes(1, 7)),
      "oversized: header declares 6 bytes of data, file has 7")
  end)

  it("checks gzip files the same way after inflating them", function()
    local short = gzip(write("gshort", idx(0x08, {4, 4}, bytes(1, 10))))
    assert.equal("read_idx: " .. short .. ": truncated: header declares 16 bytes of data, file has 10",
      err(core.read_idx, short))
    local long = gzip(write("glong", idx(0x08, {2}, bytes(1, 5))))
    assert.equal("read_idx: " .. long .. ": oversized: header declares 2 bytes of data, file has 5",
      err(core.read_idx, long))
  end)

  it("rejects gzip garbage, cut gzip streams and trailing garbage", function()
    expect("garbage.gz", "\31\139\8\0\0\0\0\0\0\3\255\255\255\255", "gzip: invalid block type")
    expect("method.gz", "\31\139\7\0\0\0\0\0\0\3", "gzip: unknown compression method")
    local good = gzip(write("cut", idx(0x08, {64}, string.rep("ab", 32))))
    local f = assert(io.open(good, "rb"))
    local packed = f:read("a")
    f:close()
    expect("cut2.gz", packed:sub(1, #packed - 12), "gzip: compressed data ends early")
    expect("tail.gz", packed .. "junk", "gzip: 4 bytes of garbage after the data")
  end)

  it("names a missing file, a directory, and bad options", function()
    assert.equal("read_idx: " .. dir .. "/nope: No such file or directory",
      err(core.read_idx, dir .. "/nope"))
    assert.equal("read_idx: " .. dir .. ": not a regular file", err(core.read_idx, dir))
    local path = write("ok", idx(0x08, {1}, "x"))
    assert.matches("invalid option 'int64'", err(core.read_idx, path, {dtype = "int64"}))
    assert.matches("scale applies to float32 output only",
      err(core.read_idx, path, {dtype = "int32", scale = 2}))
    local float = write("f", idx(0x0D, {1}, string.pack(">f", 1)))
    assert.equal("read_idx: " .. float .. ' holds float32 data; dtype = "int32" needs integer data',
      err(core.read_idx, float, {dtype = "int32"}))
  end)
end)
