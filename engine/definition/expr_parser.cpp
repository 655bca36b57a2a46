// Recursive-descent parser of the expression language, one function per precedence level:
//   or < and < not < comparison (non-associative; also `in [...]`, `not in [...]`) < + - < * / % <
//   unary - < primary.
// Recursion is bounded by kMaxDepth (nesting) and the tree height by the same limit, so that
// everything that later walks the tree recursively is bounded too.
#include <fmt/format.h>

#include "definition/expr_syntax.h"

namespace flowgate::expr {

std::string_view bin_op_text(BinOp op) {
  switch (op) {
    case BinOp::kAdd:
      return "+";
    case BinOp::kSub:
      return "-";
    case BinOp::kMul:
      return "*";
    case BinOp::kDiv:
      return "/";
    case BinOp::kMod:
      return "%";
    case BinOp::kEq:
      return "==";
    case BinOp::kNe:
      return "!=";
    case BinOp::kLt:
      return "<";
    case BinOp::kLe:
      return "<=";
    case BinOp::kGt:
      return ">";
    case BinOp::kGe:
      return ">=";
  }
  return "?";
}

bool is_comparison(BinOp op) { return op >= BinOp::kEq; }

std::string_view func_name(Func f) {
  switch (f) {
    case Func::kLen:
      return "len";
    case Func::kLower:
      return "lower";
    case Func::kUpper:
      return "upper";
    case Func::kIsSet:
      return "is_set";
    case Func::kNow:
      return "now";
    case Func::kMin:
      return "min";
    case Func::kMax:
      return "max";
    case Func::kAbs:
      return "abs";
  }
  return "?";
}

namespace {

std::string describe(std::string_view src, const Token& t) {
  if (t.kind == Tok::kEnd) return "the end of the expression";
  return fmt::format("`{}`", printable(src.substr(t.offset, t.length)));
}

class Parser {
 public:
  Parser(std::string_view src, std::vector<Token> tokens) : src_(src), toks_(std::move(tokens)) {}

  Result<NodePtr> run() {
    if (peek().kind == Tok::kEnd) return fail(compile_error(src_, 0, "empty expression"));
    auto root = parse_or();
    if (!root) return root;
    if (peek().kind != Tok::kEnd) {
      return error(
          fmt::format("unexpected {} after the end of the expression", describe(src_, peek())),
          "join conditions with `and` or `or`");
    }
    return root;
  }

 private:
  // Counts nesting while a sub-expression is being parsed.
  struct DepthGuard {
    explicit DepthGuard(int& d) : depth(d) { ++depth; }
    ~DepthGuard() { --depth; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;
    int& depth;
  };

  const Token& peek(std::size_t ahead = 0) const {
    return toks_[std::min(pos_ + ahead, toks_.size() - 1)];
  }
  const Token& take() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool accept(Tok kind) {
    if (peek().kind != kind) return false;
    take();
    return true;
  }
  std::unexpected<Error> error(std::string msg, std::string hint = {}) {
    return fail(compile_error(src_, peek().offset, std::move(msg), std::move(hint)));
  }
  std::unexpected<Error> too_deep() {
    return error(fmt::format("expression is nested too deeply (more than {} levels)", kMaxDepth),
                 "split it into simpler conditions");
  }

  Result<NodePtr> node(NodeKind kind, std::uint32_t offset, std::vector<NodePtr> kids) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->offset = offset;
    for (const auto& k : kids) n->height = std::max(n->height, k->height + 1);
    if (n->height > kMaxDepth) return too_deep();
    n->kids = std::move(kids);
    return n;
  }
  template <typename... Kids>
  Result<NodePtr> node_of(NodeKind kind, std::uint32_t offset, Kids... kids) {
    std::vector<NodePtr> v;
    (v.push_back(std::move(kids)), ...);
    return node(kind, offset, std::move(v));
  }

  // or / and: flat n-ary nodes, so long chains do not deepen the tree.
  Result<NodePtr> parse_chain(Tok op, NodeKind kind, Result<NodePtr> (Parser::*operand)()) {
    auto first = (this->*operand)();
    if (!first || peek().kind != op) return first;
    std::uint32_t offset = peek().offset;
    std::vector<NodePtr> kids;
    kids.push_back(std::move(*first));
    while (accept(op)) {
      auto next = (this->*operand)();
      if (!next) return next;
      kids.push_back(std::move(*next));
    }
    return node(kind, offset, std::move(kids));
  }

  Result<NodePtr> parse_or() {
    DepthGuard guard(depth_);
    if (depth_ > kMaxDepth) return too_deep();
    return parse_chain(Tok::kOr, NodeKind::kOr, &Parser::parse_and);
  }
  Result<NodePtr> parse_and() { return parse_chain(Tok::kAnd, NodeKind::kAnd, &Parser::parse_not); }

  Result<NodePtr> parse_not() {
    if (peek().kind != Tok::kNot) return parse_comparison();
    DepthGuard guard(depth_);
    if (depth_ > kMaxDepth) return too_deep();
    std::uint32_t offset = take().offset;
    auto operand = parse_not();
    if (!operand) return operand;
    return node_of(NodeKind::kNot, offset, std::move(*operand));
  }

  static std::optional<BinOp> comparison_op(Tok t) {
    switch (t) {
      case Tok::kEq:
        return BinOp::kEq;
      case Tok::kNe:
        return BinOp::kNe;
      case Tok::kLt:
        return BinOp::kLt;
      case Tok::kLe:
        return BinOp::kLe;
      case Tok::kGt:
        return BinOp::kGt;
      case Tok::kGe:
        return BinOp::kGe;
      default:
        return std::nullopt;
    }
  }
  bool at_comparison() const {
    return comparison_op(peek().kind) || peek().kind == Tok::kIn ||
           (peek().kind == Tok::kNot && peek(1).kind == Tok::kIn);
  }

  Result<NodePtr> parse_comparison() {
    auto lhs = parse_additive();
    if (!lhs || !at_comparison()) return lhs;
    Result<NodePtr> result;
    if (auto op = comparison_op(peek().kind)) {
      std::uint32_t offset = take().offset;
      auto rhs = parse_additive();
      if (!rhs) return rhs;
      result = node_of(NodeKind::kBinary, offset, std::move(*lhs), std::move(*rhs));
      if (result) (*result)->op = *op;
    } else {
      std::optional<std::uint32_t> not_offset;
      if (peek().kind == Tok::kNot) not_offset = take().offset;
      result = parse_in(std::move(*lhs));
      if (result && not_offset) result = node_of(NodeKind::kNot, *not_offset, std::move(*result));
    }
    if (result && at_comparison()) {
      return error("comparisons cannot be chained",
                   "combine them with `and`, e.g. a < b and b < c");
    }
    return result;
  }

  Result<NodePtr> parse_in(NodePtr lhs) {
    std::uint32_t offset = take().offset;  // `in`
    if (peek().kind != Tok::kLBracket) {
      return error(fmt::format("expected `[` after `in`, found {}", describe(src_, peek())),
                   "`in` takes a list of constants, e.g. region in ['APAC', 'EMEA']");
    }
    std::uint32_t open = take().offset;
    std::vector<NodePtr> kids;
    kids.push_back(std::move(lhs));
    while (peek().kind != Tok::kRBracket) {
      auto element = parse_or();
      if (!element) return element;
      kids.push_back(std::move(*element));
      if (accept(Tok::kComma)) continue;
      if (peek().kind != Tok::kRBracket) {
        return error(
            fmt::format("expected `,` or `]` in the list, found {}", describe(src_, peek())),
            fmt::format("the list opened at column {} is not closed", locate(src_, open).column));
      }
    }
    take();
    return node(NodeKind::kIn, offset, std::move(kids));
  }

  // Left-associative binary levels.
  Result<NodePtr> parse_binary_level(Result<NodePtr> (Parser::*operand)(),
                                     std::optional<BinOp> (*op_of)(Tok)) {
    auto lhs = (this->*operand)();
    if (!lhs) return lhs;
    while (auto op = op_of(peek().kind)) {
      std::uint32_t offset = take().offset;
      auto rhs = (this->*operand)();
      if (!rhs) return rhs;
      auto n = node_of(NodeKind::kBinary, offset, std::move(*lhs), std::move(*rhs));
      if (!n) return n;
      (*n)->op = *op;
      lhs = std::move(n);
    }
    return lhs;
  }
  static std::optional<BinOp> additive_op(Tok t) {
    if (t == Tok::kPlus) return BinOp::kAdd;
    if (t == Tok::kMinus) return BinOp::kSub;
    return std::nullopt;
  }
  static std::optional<BinOp> multiplicative_op(Tok t) {
    if (t == Tok::kStar) return BinOp::kMul;
    if (t == Tok::kSlash) return BinOp::kDiv;
    if (t == Tok::kPercent) return BinOp::kMod;
    return std::nullopt;
  }
  Result<NodePtr> parse_additive() {
    return parse_binary_level(&Parser::parse_multiplicative, &additive_op);
  }
  Result<NodePtr> parse_multiplicative() {
    return parse_binary_level(&Parser::parse_unary, &multiplicative_op);
  }

  Result<NodePtr> parse_unary() {
    if (peek().kind != Tok::kMinus) return parse_primary();
    DepthGuard guard(depth_);
    if (depth_ > kMaxDepth) return too_deep();
    std::uint32_t offset = take().offset;
    auto operand = parse_unary();
    if (!operand) return operand;
    return node_of(NodeKind::kNeg, offset, std::move(*operand));
  }

  Result<NodePtr> literal(Value v) {
    auto n = std::make_unique<Node>();
    n->offset = take().offset;
    n->value = std::move(v);
    return n;
  }

  Result<NodePtr> parse_primary() {
    const Token& t = peek();
    switch (t.kind) {
      case Tok::kLiteral:
        return literal(t.value);
      case Tok::kTrue:
        return literal(Value::boolean(true));
      case Tok::kFalse:
        return literal(Value::boolean(false));
      case Tok::kNull:
        return literal(Value::null());
      case Tok::kLParen: {
        std::uint32_t open = take().offset;
        auto inner = parse_or();
        if (!inner) return inner;
        if (!accept(Tok::kRParen)) {
          return error(fmt::format("expected `)`, found {}", describe(src_, peek())),
                       fmt::format("the `(` at {} is not closed", position(open)));
        }
        return inner;
      }
      case Tok::kIdent:
        return reference_or_call();
      case Tok::kEnd:
        return error("expected a value, found the end of the expression");
      default: {
        std::string hint;
        if (t.kind == Tok::kAnd || t.kind == Tok::kOr || t.kind == Tok::kIn ||
            t.kind == Tok::kNot) {
          hint = fmt::format("`{}` is a keyword; write data.{} for a field with that name",
                             src_.substr(t.offset, t.length), src_.substr(t.offset, t.length));
        }
        return error(fmt::format("expected a value, found {}", describe(src_, t)), std::move(hint));
      }
    }
  }

  std::string position(std::uint32_t offset) const {
    auto loc = locate(src_, offset);
    return fmt::format("line {}, column {}", loc.line, loc.column);
  }

  Result<NodePtr> reference_or_call() {
    const Token& first = take();
    std::string_view name = src_.substr(first.offset, first.length);
    auto n = std::make_unique<Node>();
    n->offset = first.offset;
    if (peek().kind == Tok::kLParen) return call(std::move(n), name);
    n->kind = NodeKind::kRef;
    if ((name == "data" || name == "event") && accept(Tok::kDot)) {
      n->scope = name == "data" ? RefScope::kData : RefScope::kEvent;
      n->qualified = true;
      const Token& field = peek();
      // Keywords are allowed after the dot: data.in names a field called "in".
      if (field.kind == Tok::kEnd || field.kind == Tok::kLiteral || field.length == 0 ||
          !(field.kind == Tok::kIdent || field.kind == Tok::kTrue || field.kind == Tok::kFalse ||
            field.kind == Tok::kNull || field.kind == Tok::kAnd || field.kind == Tok::kOr ||
            field.kind == Tok::kNot || field.kind == Tok::kIn)) {
        return error(fmt::format("expected a field name after `{}.`, found {}", name,
                                 describe(src_, field)));
      }
      n->name = std::string(src_.substr(field.offset, field.length));
      take();
    } else {
      n->name = std::string(name);
    }
    if (peek().kind == Tok::kDot) {
      return error("unexpected `.`",
                   "fields are referenced as data.<field>, event.<field> or <field>");
    }
    return n;
  }

  Result<NodePtr> call(NodePtr n, std::string_view name) {
    n->kind = NodeKind::kCall;
    n->name = std::string(name);
    std::uint32_t open = take().offset;  // `(`
    std::vector<NodePtr> args;
    while (peek().kind != Tok::kRParen) {
      auto arg = parse_or();
      if (!arg) return arg;
      args.push_back(std::move(*arg));
      if (accept(Tok::kComma)) {
        if (peek().kind == Tok::kRParen) return error("expected an argument after `,`");
        continue;
      }
      if (peek().kind != Tok::kRParen) {
        return error(fmt::format("expected `,` or `)` in the call of {}(), found {}", name,
                                 describe(src_, peek())),
                     fmt::format("the `(` at {} is not closed", position(open)));
      }
    }
    take();
    for (const auto& a : args) n->height = std::max(n->height, a->height + 1);
    if (n->height > kMaxDepth) return too_deep();
    n->kids = std::move(args);
    return n;
  }

  std::string_view src_;
  std::vector<Token> toks_;
  std::size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<NodePtr> parse(std::string_view source) {
  if (source.size() > kMaxSourceBytes) {
    return fail(Error(ErrorCode::kInvalidDefinition,
                      fmt::format("expression is too long ({} bytes; the limit is {})",
                                  source.size(), kMaxSourceBytes))
                    .at(SourceLocation{"", 1, 1}));
  }
  auto tokens = lex(source);
  if (!tokens) return fail(std::move(tokens.error()));
  return Parser(source, std::move(*tokens)).run();
}

}  // namespace flowgate::expr
