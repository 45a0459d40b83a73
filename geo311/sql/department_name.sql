-- The public name of a department. Inputs: :code. Output: code, name_en, name_es, contact.
SELECT code, name_en, name_es, contact FROM department WHERE code = :code
