// Internal to the expression compiler (definition/expr.h): tokens, the syntax tree and the
// lexer/parser that build it, plus the helpers that turn a source offset into an Error location.
// The tree is also what the type checker annotates (types, slots, folded constants) and what
// are_exclusive() inspects after compilation. Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "definition/value.h"
#include "util/error.h"

namespace flowgate::expr {

// Inputs beyond these limits are refused with an error, so that no input can exhaust the stack or
// memory of the process that loads a workflow.
inline constexpr std::size_t kMaxSourceBytes = 64 * 1024;
inline constexpr int kMaxDepth = 256;

enum class Tok : std::uint8_t {
  kEnd,
  kLiteral,  // number, string, date, datetime or duration: Token::value holds it
  kIdent,
  kTrue,
  kFalse,
  kNull,
  kAnd,
  kOr,
  kNot,
  kIn,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kDot,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kPercent,
};

struct Token {
  Tok kind = Tok::kEnd;
  std::uint32_t offset = 0;  // byte offset into the source
  std::uint32_t length = 0;
  Value value;  // for kLiteral
};

// Splits `source` into tokens ending with one kEnd token. Errors carry the offending column.
Result<std::vector<Token>> lex(std::string_view source);

enum class NodeKind : std::uint8_t {
  kLiteral,  // also the result of constant folding
  kRef,
  kNeg,
  kNot,
  kBinary,
  kAnd,  // n-ary, short-circuit
  kOr,   // n-ary, short-circuit
  kIn,   // kids[0] in [kids[1..]]
  kCall,
  kConvert,  // inserted by the checker: numeric promotion and date/duration unit changes
};

enum class BinOp : std::uint8_t { kAdd, kSub, kMul, kDiv, kMod, kEq, kNe, kLt, kLe, kGt, kGe };
enum class RefScope : std::uint8_t { kData, kEvent };
enum class Func : std::uint8_t { kLen, kLower, kUpper, kIsSet, kNow, kMin, kMax, kAbs };
enum class Conv : std::uint8_t {
  kToUnits,    // int → decimal/money units
  kDurToDays,  // duration → whole days (for date arithmetic); fails on a partial day
  kDaysToDur,  // days → duration (date − date)
};

std::string_view bin_op_text(BinOp op);
bool is_comparison(BinOp op);
std::string_view func_name(Func f);

struct Node {
  NodeKind kind = NodeKind::kLiteral;
  BinOp op = BinOp::kAdd;      // kBinary
  Func func = Func::kLen;      // kCall
  Conv conv = Conv::kToUnits;  // kConvert
  RefScope scope = RefScope::kData;
  bool qualified = false;    // kRef: written as data.<name> or event.<name>
  std::uint32_t offset = 0;  // where errors about this node point (operator, name or literal)
  int height = 1;            // 1 + the tallest child; bounded by kMaxDepth
  Value value;               // kLiteral
  std::string name;          // kRef: field name; kCall: function name as written
  std::vector<std::unique_ptr<Node>> kids;

  // Filled by the type checker.
  Type type = Type::kNull;
  int slot = -1;  // kRef: index into the scope's data or event fields

  bool is_literal() const { return kind == NodeKind::kLiteral; }
};

using NodePtr = std::unique_ptr<Node>;

// Parses a whole expression. Depth and size limits are enforced here.
Result<NodePtr> parse(std::string_view source);

// 1-based line and column of a byte offset; columns count UTF-8 code points.
SourceLocation locate(std::string_view source, std::uint32_t offset);
// A kInvalidDefinition error located at `offset` in `source`.
Error compile_error(std::string_view source, std::uint32_t offset, std::string message,
                    std::string hint = {});
// User text made safe for a message: invalid UTF-8 and control characters escaped, long text cut.
std::string printable(std::string_view text, std::size_t max_chars = 40);

}  // namespace flowgate::expr
