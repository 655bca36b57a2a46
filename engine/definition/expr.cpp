// Expression: compile once (parse → check → emit), evaluate many times. See expr_program.h for the
// compiled form.
#include "definition/expr.h"

#include <fmt/format.h>

#include "definition/expr_program.h"

namespace flowgate {

Expression::Expression() {
  // Every default expression shares one compiled `true`.
  static const std::shared_ptr<const Program> kTrue = [] {
    auto p = std::make_shared<Program>();
    p->source = "true";
    p->type = Type::kBool;
    p->tree = std::make_unique<expr::Node>();
    p->tree->value = Value::boolean(true);
    p->tree->type = Type::kBool;
    expr::emit(*p->tree, *p);
    p->seal();
    return p;
  }();
  program_ = kTrue;
}

Result<Expression> Expression::compile(std::string_view source, const Scope& scope) {
  auto tree = expr::parse(source);
  if (!tree) return fail(std::move(tree.error()));
  auto p = std::make_shared<Program>();
  p->source = std::string(source);
  if (auto r = expr::check(**tree, scope, source, p->data_refs, p->event_refs); !r) {
    return fail(std::move(r.error()));
  }
  p->type = (*tree)->type;
  expr::emit(**tree, *p);
  p->tree = std::move(*tree);
  p->seal();
  Expression e;
  e.program_ = std::move(p);
  return e;
}

Type Expression::type() const { return program_->type; }
const std::string& Expression::source() const { return program_->source; }
const std::vector<std::string>& Expression::data_refs() const { return program_->data_refs; }
const std::vector<std::string>& Expression::event_refs() const { return program_->event_refs; }

Result<Value> Expression::evaluate(const EvalInput& in) const {
  expr::Scratch scratch;
  expr::Cell cell;
  if (!expr::run(*program_, in, scratch, cell)) return fail(std::move(*scratch.error));
  return expr::value_of(cell);
}

Result<bool> Expression::test(const EvalInput& in) const {
  if (program_->type != Type::kBool && program_->type != Type::kNull) {
    return fail(ErrorCode::kEvaluation,
                fmt::format("`{}` is a {} expression, not a condition",
                            expr::printable(program_->source, 120), type_name(program_->type)));
  }
  expr::Scratch scratch;
  expr::Cell cell;
  if (!expr::run(*program_, in, scratch, cell)) return fail(std::move(*scratch.error));
  return cell.type == Type::kBool && cell.i != 0;
}

}  // namespace flowgate
