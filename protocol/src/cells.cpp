// Text checks shared by the typed cell codecs and the dynamic value codec.
#include "cql/protocol/cells.hpp"

namespace cql::protocol {

bool is_valid_ascii(bytes_view b) noexcept {
    std::uint8_t acc = 0;
    for (auto c : b)
        acc |= c;
    return (acc & 0x80) == 0;
}

bool is_valid_utf8(bytes_view b) noexcept {
    std::size_t i = 0;
    const std::size_t n = b.size();
    while (i < n) {
        // Fast path: eight ASCII bytes at a time.
        if (n - i >= 8) {
            std::uint64_t w;
            std::memcpy(&w, b.data() + i, 8);
            if ((w & 0x8080808080808080ULL) == 0) {
                i += 8;
                continue;
            }
        }
        const std::uint8_t c = b[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len;
        std::uint32_t cp;
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i < len) return false;
        for (std::size_t k = 1; k < len; ++k) {
            const std::uint8_t cc = b[i + k];
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        // Overlong forms, surrogates and code points above U+10FFFF are invalid.
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
            return false;
        if (cp >= 0xD800 && cp <= 0xDFFF) return false;
        if (cp > 0x10FFFF) return false;
        i += len;
    }
    return true;
}

}  // namespace cql::protocol
