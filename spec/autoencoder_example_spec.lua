-- examples/autoencoder.lua on a small slice of MNIST: it trains (the test
-- loss falls) and prints the digits next to their reconstructions.
describe("examples/autoencoder.lua", function()
  it("trains a Conv encoder and ConvTranspose decoder on 512 images and shows reconstructions", function()
    local host = os.getenv("CNNLUA") or "build/cnnlua"
    local pipe = assert(io.popen(host .. " examples/autoencoder.lua 1 512 2>&1"))
    local out = pipe:read("a")
    local ok, how, code = pipe:close()
    assert.is_true(ok, ("exit %s %s:\n%s"):format(how, code, out))
    assert.matches("ConvTranspose((3, 3), 32 => 16, relu, pad=1, stride=2, outpad=1)", out, 1, true)
    local before = tonumber(out:match("test loss before training: ([%d.]+)\n"))
    local train, after = out:match("epoch 1/1: train loss ([%d.]+), test loss ([%d.]+) %(")
    assert.is_not_nil(before, out)
    assert.is_not_nil(after, out)
    assert.is_true(tonumber(after) < before, ("test loss %s after training, %s before"):format(after, before))
    assert.is_true(tonumber(train) < before, out)
    -- three pictures of 28 lines, each a digit and its reconstruction:
    -- 56 characters, two spaces, 56 characters
    for i = 1, 3 do
      local header = ("test image %d and its reconstruction:\n"):format(i)
      local at = select(2, out:find(header, 1, true))
      assert.is_not_nil(at, out)
      local rest = out:sub(at + 1)
      local n = 0
      for line in rest:gmatch("[^\n]*\n") do
        if n == 28 then break end
        n = n + 1
        assert.are.equal(114, utf8.len(line) - 1, line)
        assert.are.equal("  ", utf8.char(utf8.codepoint(line, utf8.offset(line, 57), utf8.offset(line, 58))))
        assert.is_nil(line:gsub("[ \n]", ""):gsub("[░▒▓█]", ""):match("."), line)
      end
      assert.are.equal(28, n)
    end
  end)
end)
